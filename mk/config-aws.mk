# mk/config-aws.mk: put the pipeline's SSM parameters and Secrets Manager secrets in place (shipkit).
#
#   CONFIG_AWS := deploy/aws-config.yaml
#   include shipkit/mk/config-aws.mk
#
# Target
#   config-aws   ssm-put --from-file $(CONFIG_AWS) --skip-unchanged, then
#                secret-put --from-file $(CONFIG_AWS) --skip-unchanged: the file's parameters: and
#                secrets: sections. Everything is validated before the first write, and a second run
#                with the same values writes nothing (no new parameter versions, no new secret versions).
#
# The file (examples/aws-config.yaml is the deployment guide's example):
#   parameters:
#     /ml-cicd/mlflow/artifact-root: s3://bucket/artifacts           # a String
#     /ml-cicd/mlflow/backend-store-uri:                              # a SecureString, from the environment
#       type: SecureString
#       value_env: MLFLOW_BACKEND_STORE_URI
#   secrets:
#     ml-cicd/database:
#       value_file: secrets/database.json                             # never the value itself
#       description: Database credentials
#
# Variables (?= defaults; the environment works too)
#   CONFIG_AWS         the file                                                   (aws-config.yaml)
#   CONFIG_AWS_FLAGS   flags for both tools, e.g. --region eu-west-1 --profile prod
#   SSM_PUT, SECRET_PUT  the tools (this checkout's bin/ when used from a shipkit tree)
#
# Values from outside are data, never shell or make code (mk/checks.mk; docs/make-fragments.md,
# "Hostile values"): taken as written from the command line or the environment; CONFIG_AWS is
# handed to the tools as one argument; CONFIG_AWS_FLAGS and the tools are word lists, split at
# blanks and passed on word by word, never evaluated.

ifndef _sk_config_aws_mk
_sk_config_aws_mk := 1
_sk_config_aws_goal := $(.DEFAULT_GOAL)
_sk_config_aws_dir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
include $(_sk_config_aws_dir)/checks.mk
_sk_config_aws_src := $(if $(wildcard $(_sk_config_aws_dir)/build/tools.mk),$(patsubst %/,%,$(dir $(_sk_config_aws_dir))))

# Taken as written when they come from the command line or the environment (mk/checks.mk).
$(call _sk_literal,CONFIG_AWS CONFIG_AWS_FLAGS SSM_PUT SECRET_PUT)

CONFIG_AWS ?= aws-config.yaml
CONFIG_AWS_FLAGS ?=
SSM_PUT ?= $(if $(_sk_config_aws_src),$(_sk_config_aws_src)/bin/ssm-put,ssm-put)
SECRET_PUT ?= $(if $(_sk_config_aws_src),$(_sk_config_aws_src)/bin/secret-put,secret-put)

# Everything reaches the recipe through the environment only: the file as one argument, the tools
# and CONFIG_AWS_FLAGS as word lists, unquoted under set -f (split at blanks, never globbed or
# evaluated).
config-aws: export _sk_cfg_file = $(CONFIG_AWS)
config-aws: export _sk_cfg_show = $(call _sk_show,$(CONFIG_AWS))
config-aws: export _sk_cfg_flags = $(CONFIG_AWS_FLAGS)
config-aws: export _sk_cfg_ssm_put = $(SSM_PUT)
config-aws: export _sk_cfg_secret_put = $(SECRET_PUT)

.PHONY: config-aws
config-aws:
	@test -r "$$_sk_cfg_file" || { printf '%s\n' "config-aws.mk: cannot read CONFIG_AWS=$$_sk_cfg_show" >&2; exit 1; }
	@set -f; $$_sk_cfg_ssm_put --from-file "$$_sk_cfg_file" --skip-unchanged $$_sk_cfg_flags
	@set -f; $$_sk_cfg_secret_put --from-file "$$_sk_cfg_file" --skip-unchanged $$_sk_cfg_flags

.DEFAULT_GOAL := $(_sk_config_aws_goal)
endif
