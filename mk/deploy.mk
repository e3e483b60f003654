# mk/deploy.mk: deploy to Amazon ECS, watch it, and look at it (shipkit).
#
# Include it AFTER mk/images.mk (it deploys what push-images pushed) and after setting:
#
#   ECS_CLUSTER := ml-cluster
#   ECS_SERVICES := model-serving
#   ECS_IMAGES_model-serving := model-server=app     # IMAGE=CONTAINER pairs: which pushed image
#                                                     # (from IMAGES) goes into which container
#   include shipkit/mk/images.mk shipkit/mk/deploy.mk
#
# Targets
#   deploy-aws     push-images, then for each service: ecs-roll with the pushed digests
#                  (REGISTRY/REPO@sha256:... from $(BUILD_DIR)/images/<image>.ref), then
#                  tg-health --service CLUSTER/SERVICE --wait. Stops at the first failure.
#   status-aws     for each service: ecs-roll --status (service, deployments, recent events) and
#                  tg-health --service (target health): what to run first when a deploy is stuck
#   logs-aws       the recent CloudWatch Logs lines of each service (ecs-roll --logs);
#                  FOLLOW=1 keeps following, SINCE=30m looks further back
#
# Variables (every one can also come from the environment; ?= defaults shown)
#   ECS_CLUSTER              the cluster                                   (required)
#   ECS_SERVICES             the services to deploy                        (required)
#   ECS_IMAGES_<service>     IMAGE=CONTAINER pairs for that service        (required)
#   DEPLOY_TIMEOUT           ecs-roll --timeout                            (15m)
#   HEALTH_TIMEOUT           tg-health --timeout                           (5m)
#   HEALTH_GRACE             tg-health --grace                             (30s)
#   ECS_ROLL_FLAGS           extra ecs-roll flags, e.g. --no-rollback, --region eu-west-1
#   TG_HEALTH_FLAGS          extra tg-health flags
#   SKIP_HEALTH=1            deploy without the target-health check (services without a load balancer)
#   SINCE, FOLLOW            for logs-aws                                  (10m, unset)
#   ECS_ROLL, TG_HEALTH      the tools (this checkout's bin/ when used from a shipkit tree)

ifndef _sk_deploy_mk
_sk_deploy_mk := 1
_sk_deploy_saved_goal := $(.DEFAULT_GOAL)
_sk_deploy_dir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
_sk_deploy_src := $(if $(wildcard $(_sk_deploy_dir)/build/tools.mk),$(patsubst %/,%,$(dir $(_sk_deploy_dir))))

ECS_ROLL ?= $(if $(_sk_deploy_src),$(_sk_deploy_src)/bin/ecs-roll,ecs-roll)
TG_HEALTH ?= $(if $(_sk_deploy_src),$(_sk_deploy_src)/bin/tg-health,tg-health)
DEPLOY_TIMEOUT ?= 15m
HEALTH_TIMEOUT ?= 5m
HEALTH_GRACE ?= 30s
ECS_ROLL_FLAGS ?=
TG_HEALTH_FLAGS ?=
SINCE ?= 10m
BUILD_DIR ?= build

_sk_deploy_fail = { echo "deploy.mk: $(1)" >&2; exit 1; }
_sk_deploy_need = $(if $(strip $(ECS_CLUSTER)),,$(error deploy.mk: set ECS_CLUSTER))$(if $(strip $(ECS_SERVICES)),,$(error deploy.mk: set ECS_SERVICES))

# --image CONTAINER=REGISTRY/REPO@sha256:... for each IMAGE=CONTAINER pair of service $(1).
_sk_image_args = $(foreach p,$(ECS_IMAGES_$(1)),--image $(word 2,$(subst =, ,$(p)))=$$(cat $(BUILD_DIR)/images/$(word 1,$(subst =, ,$(p))).ref))
_sk_image_refs = $(foreach p,$(ECS_IMAGES_$(1)),$(BUILD_DIR)/images/$(word 1,$(subst =, ,$(p))).ref)

.PHONY: deploy-aws status-aws logs-aws $(addprefix deploy-aws-,$(ECS_SERVICES))

deploy-aws: $(addprefix deploy-aws-,$(ECS_SERVICES))

# One service: roll it out with the pushed digests, then wait for its targets.
$(addprefix deploy-aws-,$(ECS_SERVICES)): deploy-aws-%: push-images
	@$(_sk_deploy_need)
	@test -n '$(strip $(ECS_IMAGES_$*))' || $(call _sk_deploy_fail,set ECS_IMAGES_$* (IMAGE=CONTAINER pairs))
	@for r in $(call _sk_image_refs,$*); do test -s "$$r" || $(call _sk_deploy_fail,$$r missing: did push-images run?); done
	$(ECS_ROLL) --cluster '$(ECS_CLUSTER)' --service '$*' $(call _sk_image_args,$*) --timeout $(DEPLOY_TIMEOUT) $(ECS_ROLL_FLAGS)
	$(if $(SKIP_HEALTH),@echo "deploy.mk: SKIP_HEALTH set: target health not checked",$(TG_HEALTH) --service '$(ECS_CLUSTER)/$*' --wait --timeout $(HEALTH_TIMEOUT) --grace $(HEALTH_GRACE) $(TG_HEALTH_FLAGS))

status-aws:
	@$(_sk_deploy_need)
	@for s in $(ECS_SERVICES); do \
		$(ECS_ROLL) --cluster '$(ECS_CLUSTER)' --service "$$s" --status $(ECS_ROLL_FLAGS); \
		echo "targets"; \
		$(TG_HEALTH) --service '$(ECS_CLUSTER)'/"$$s" $(TG_HEALTH_FLAGS) || true; \
	done

logs-aws:
	@$(_sk_deploy_need)
	@for s in $(ECS_SERVICES); do \
		$(ECS_ROLL) --cluster '$(ECS_CLUSTER)' --service "$$s" --logs --since $(SINCE) $(if $(FOLLOW),--follow) $(ECS_ROLL_FLAGS) & \
	done; wait

# Including this file must not change the includer's default goal.
.DEFAULT_GOAL := $(_sk_deploy_saved_goal)
endif
