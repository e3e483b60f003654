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

ifndef _sk_config_aws_mk
_sk_config_aws_mk := 1
_sk_config_aws_goal := $(.DEFAULT_GOAL)
_sk_config_aws_dir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
_sk_config_aws_src := $(if $(wildcard $(_sk_config_aws_dir)/build/tools.mk),$(patsubst %/,%,$(dir $(_sk_config_aws_dir))))

CONFIG_AWS ?= aws-config.yaml
CONFIG_AWS_FLAGS ?=
SSM_PUT ?= $(if $(_sk_config_aws_src),$(_sk_config_aws_src)/bin/ssm-put,ssm-put)
SECRET_PUT ?= $(if $(_sk_config_aws_src),$(_sk_config_aws_src)/bin/secret-put,secret-put)

.PHONY: config-aws
config-aws:
	@test -r '$(CONFIG_AWS)' || { echo "config-aws.mk: cannot read CONFIG_AWS=$(CONFIG_AWS)" >&2; exit 1; }
	$(SSM_PUT) --from-file '$(CONFIG_AWS)' --skip-unchanged $(CONFIG_AWS_FLAGS)
	$(SECRET_PUT) --from-file '$(CONFIG_AWS)' --skip-unchanged $(CONFIG_AWS_FLAGS)

.DEFAULT_GOAL := $(_sk_config_aws_goal)
endif
