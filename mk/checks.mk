# mk/checks.mk: how the make fragments take values from outside (shipkit).
#
# Included by mk/images.mk, mk/deploy.mk, mk/config-aws.mk and mk/infra.mk from their own
# directory; it defines no target, so including it once more (or directly) changes nothing.
# docs/make-fragments.md ("Hostile values") has the rules; in short, a value never becomes shell or
# make code:
#   - a value from the command line or the environment is taken as written: the fragments never
#     expand a `$` in it (_sk_literal), so `IMAGE_TAG='$(AWS_SECRET_ACCESS_KEY)'` is just a bad tag;
#   - names (tags, image and repository names, registries, ECS and RDS names, secret ids) and the
#     paths make itself uses are checked against their syntax before a recipe or a rule contains
#     them (_sk_bad, _sk_want). A name that passes has only characters the shell and make take
#     literally; a bad one stops make with one line naming the variable and the value;
#   - everything else (flag lists, tool commands, durations, other paths) reaches the recipe only
#     through the environment: "$$VAR" as one argument, or a word list expanded unquoted under
#     `set -f` (split at blanks, never globbed or evaluated).

ifndef _sk_checks_mk
_sk_checks_mk := 1

_sk_empty :=
_sk_space := $(_sk_empty) $(_sk_empty)
_sk_tab := $(_sk_empty)	$(_sk_empty)
_sk_comma := ,
define _sk_nl


endef

_sk_lower := a b c d e f g h i j k l m n o p q r s t u v w x y z
_sk_upper := A B C D E F G H I J K L M N O P Q R S T U V W X Y Z
_sk_digits := 0 1 2 3 4 5 6 7 8 9
_sk_alnum := $(_sk_lower) $(_sk_upper) $(_sk_digits)
# Character sets, one character a word.
_sk_c_tag := $(_sk_alnum) _ . -
_sk_c_ecs := $(_sk_alnum) _ -
_sk_c_ecr := $(_sk_lower) $(_sk_digits) . _ - /
_sk_c_image := $(_sk_lower) $(_sk_digits) . _ -
_sk_c_host := $(_sk_alnum) . - :
_sk_c_path := $(_sk_alnum) . _ / + @ , -
_sk_c_rds := $(_sk_alnum) -
_sk_c_arn := $(_sk_alnum) : -
_sk_c_secret := $(_sk_alnum) / _ + = . @ : -
_sk_c_var := $(_sk_alnum) _ . -

# $(call _sk_del,TEXT,CHARS): TEXT without any of CHARS.
_sk_del = $(if $(2),$(call _sk_del,$(subst $(firstword $(2)),,$(1)),$(wordlist 2,$(words $(2)),$(2))),$(1))
# $(call _sk_is_empty,TEXT): y when TEXT is exactly empty (blanks count: $(if) would strip them).
_sk_is_empty = $(if $(findstring x$(1)x,xx),y)
# $(call _sk_only,TEXT,CHARS): y when TEXT is not empty and has no character outside CHARS.
_sk_only = $(if $(call _sk_is_empty,$(1)),,$(call _sk_is_empty,$(call _sk_del,$(1),$(2))))
# $(call _sk_longer,TEXT,N,CHARS): non-empty when TEXT (made of CHARS only) has N characters or more.
_sk_longer = $(word $(2),$(call _sk_spread,$(1),$(3)))
_sk_spread = $(if $(2),$(call _sk_spread,$(subst $(firstword $(2)),$(firstword $(2)) ,$(1)),$(wordlist 2,$(words $(2)),$(2))),$(1))
# $(call _sk_has,TEXT,STRINGS): non-empty when TEXT contains one of STRINGS.
_sk_has = $(strip $(foreach s,$(2),$(findstring $(s),$(1))))
_sk_seps_ecr := .. ._ .- ./ _. __ _- _/ -. -_ -- -/ /. /_ /- //

# $(call _sk_ok_KIND,VALUE): y (non-empty) when VALUE is a valid KIND.
# OCI tag: https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests
_sk_ok_tag = $(and $(call _sk_only,$(1),$(_sk_c_tag)),$(if $(filter .% -%,$(1)),,y),\
	$(if $(call _sk_longer,$(1),129,$(_sk_c_tag)),,y))
_sk_why_tag := is not a valid tag (OCI: [A-Za-z0-9_][A-Za-z0-9._-]{0$(_sk_comma)127})
# ECS cluster, service and container names: up to 255 letters, digits, hyphens and underscores
# (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html,
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html).
_sk_ok_ecs = $(and $(call _sk_only,$(1),$(_sk_c_ecs)),$(if $(call _sk_longer,$(1),256,$(_sk_c_ecs)),,y))
_sk_why_ecs := is not a valid ECS name (1 to 255 letters$(_sk_comma) digits$(_sk_comma) - and _)
# ECR repository name, 2 to 256 characters of
# (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*
# (https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).
_sk_ok_ecr = $(and $(call _sk_only,$(1),$(_sk_c_ecr)),$(if $(filter .% _% -% /% %. %_ %- %/,$(1)),,y),\
	$(if $(call _sk_has,$(1),$(_sk_seps_ecr)),,y),$(call _sk_longer,$(1),2,$(_sk_c_ecr)),\
	$(if $(call _sk_longer,$(1),257,$(_sk_c_ecr)),,y))
_sk_why_ecr := is not a valid ECR repository name ((?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$(_sk_comma) 2 to 256 characters)
# A local image name: one path component of an OCI name, [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*
# (https://github.com/opencontainers/distribution-spec/blob/main/spec.md#pulling-manifests).
_sk_ok_image = $(and $(call _sk_only,$(1),$(_sk_c_image)),$(if $(filter .% _% -% %. %_ %-,$(1)),,y),\
	$(if $(call _sk_has,$(1),.. ._ .- _. -. _- -_ ___),,y))
_sk_why_image := is not a valid image name (lowercase letters and digits$(_sk_comma) joined by .$(_sk_comma) _$(_sk_comma) __ or -)
# A registry: HOST or HOST:PORT, HOST being dot-separated labels of letters, digits and inner hyphens.
_sk_ok_registry = $(and $(call _sk_only,$(1),$(_sk_c_host)),$(call _sk_ok_host,$(firstword $(subst :, ,$(1)))),\
	$(if $(findstring :,$(1)),$(call _sk_only,$(patsubst $(firstword $(subst :, ,$(1))):%,%,$(1)),$(_sk_digits)),y))
_sk_ok_host = $(and $(1),$(if $(filter .% -% %. %-,$(1)),,y),$(if $(call _sk_has,$(1),.. .- -.),,y))
_sk_why_registry := is not a valid registry (HOST or HOST:PORT$(_sk_comma) e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com)
# A path make itself uses (a target, a prerequisite, an include): letters, digits and ._/+@,- only.
_sk_ok_path = $(and $(call _sk_only,$(1),$(_sk_c_path)),$(if $(filter -%,$(1)),,y))
_sk_why_path := is not a path the fragments take (letters$(_sk_comma) digits and ._/+@$(_sk_comma)- only$(_sk_comma) not starting with -)
# RDS DB instance identifier: a letter, then up to 62 letters, digits and single hyphens, not
# ending in one (https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstance.html);
# or its ARN, which rds-check takes too.
_sk_ok_rds = $(or $(and $(call _sk_only,$(1),$(_sk_c_rds)),$(filter $(addsuffix %,$(_sk_lower) $(_sk_upper)),$(1)),\
	$(if $(filter %-,$(1))$(findstring --,$(1)),,y),$(if $(call _sk_longer,$(1),64,$(_sk_c_rds)),,y)),\
	$(and $(filter arn:%,$(1)),$(call _sk_only,$(1),$(_sk_c_arn))))
_sk_why_rds := is not a valid DB instance identifier or ARN (a letter$(_sk_comma) then letters$(_sk_comma) digits and single hyphens$(_sk_comma) up to 63)
# Secrets Manager secret name or ARN: letters, digits and /_+=.@- (names,
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html), : in ARNs.
_sk_ok_secret = $(call _sk_only,$(1),$(_sk_c_secret))
_sk_why_secret := is not a valid secret name or ARN (letters$(_sk_comma) digits and /_+=.@:- only)

# Control characters but tab, newline, CR, VT and FF (make splits words at those), made on first use.
_sk_ctl = $(eval _sk_ctl := $$(shell printf '\001 \002 \003 \004 \005 \006 \007 \010 \016 \017 \020 \021 \022 \
	\023 \024 \025 \026 \027 \030 \031 \032 \033 \034 \035 \036 \037 \177'))$(_sk_ctl)
_sk_cr = $(eval _sk_cr := $$(shell printf '\r'))$(_sk_cr)
_sk_vt = $(eval _sk_vt := $$(shell printf '\v'))$(_sk_vt)
_sk_ff = $(eval _sk_ff := $$(shell printf '\f'))$(_sk_ff)
_sk_subst_all = $(if $(2),$(call _sk_subst_all,$(subst $(firstword $(2)),$(3),$(1)),$(wordlist 2,$(words $(2)),$(2)),$(3)),$(1))
# $(call _sk_show,TEXT): TEXT on one line for a message: \n, \t and \r for newline, tab and carriage
# return, ? for any other control character.
_sk_show = $(call _sk_subst_all,$(call _sk_show_ws,$(1)),$(_sk_ctl),?)
_sk_show_ws = $(subst $(_sk_vt),?,$(subst $(_sk_ff),?,$(subst $(_sk_cr),\r,$(call _sk_show_nl,$(1)))))
_sk_show_nl = $(subst $(_sk_tab),\t,$(subst $(_sk_nl),\n,$(1)))

# $(call _sk_bad,KIND,LABEL,VALUE): empty when VALUE is a valid KIND, else the message
# "LABEL 'VALUE' is not a valid ...".
_sk_bad = $(if $(call _sk_ok_$(1),$(3)),,$(2) '$(call _sk_show,$(3))' $(_sk_why_$(1)))
# $(call _sk_first,FUNCTION,LIST,A,B): the first non-empty $(call FUNCTION,WORD,A,B) over LIST.
_sk_first = $(if $(strip $(2)),$(or $(call $(1),$(firstword $(2)),$(3),$(4)),$(call _sk_first,$(1),$(wordlist 2,$(words $(2)),$(2)),$(3),$(4))))
# $(call _sk_bad_list,KIND,LABEL,LIST): the message for the first word of LIST that is not a KIND.
_sk_bad_list = $(call _sk_first,_sk_bad_word,$(3),$(1),$(2))
_sk_bad_word = $(call _sk_bad,$(2),$(3):,$(1))
# $(call _sk_want,FRAGMENT,KIND,VAR): $(VAR) when it is a valid KIND; else make stops with
# "FRAGMENT: VAR '...' is not a valid ...". What it returns can go into a recipe as it is.
_sk_want = $(if $(call _sk_ok_$(2),$($(3))),$($(3)),$(error $(1): $(call _sk_bad,$(2),$(3),$($(3)))))

# $(call _sk_literal,VARS): each of VARS that was set on the command line or in the environment
# becomes a simple variable holding its text as written, so no later reference expands a `$` in it.
# Set on the command line it stays exported to recipes, as make exports it (now unexpanded).
_sk_literal = $(foreach v,$(1),$(if $(call _sk_outside,$(v)),$(eval $(call _sk_literal_1,$(v)))))
_sk_outside = $(and $(filter environment command,$(firstword $(origin $(1)))),$(call _sk_only,$(1),$(_sk_c_var)))
_sk_literal_1 = $(if $(filter environment,$(origin $(1))),$(1) := $$(value $(1)),$(call _sk_literal_o,$(1)))
_sk_literal_o = override $(1) := $$(value $(1))$(_sk_nl)export $(1)

endif
