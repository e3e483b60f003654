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
#   deploy-aws     push-images, then ONE ecs-roll run for all of ECS_SERVICES with the pushed
#                  digests (REGISTRY/REPO@sha256:... from $(BUILD_DIR)/images/<image>.ref): with
#                  several services it is ecs-roll's fleet mode (src/ecs-roll.1 FLEETS): they
#                  deploy together (ECS_MAX_PARALLEL at a time), one DescribeServices watches 10,
#                  each line names its service, a failing one is rolled back on its own, throttled
#                  calls are waited out until DEPLOY_TIMEOUT, a table sums up. Then, when all
#                  deployed, tg-health --service CLUSTER/SERVICE --wait for every service at once.
#                  40 services take about the time of one.
#   deploy-aws-SERVICE   the same for one service alone
#   rollback-aws   for each service: ecs-roll --rollback, the task definition of its last successful
#                  deployment, deployed and watched
#   abort-aws      for each service: ecs-roll --abort, its deployment in progress stopped and rolled
#                  back by ECS (any strategy), the rollback watched to its end
#   status-aws     for each service: ecs-roll --status (service, deployments, recent events, a
#                  targets line) and tg-health --service (each target): what to run first when a
#                  deploy is stuck; OUTPUT=json: one JSON object a service, for programs
#   logs-aws       the recent CloudWatch Logs lines of each service (ecs-roll --logs);
#                  FOLLOW=1 keeps following, SINCE=30m looks further back
#   run-aws        a one-off task (ecs-run): a migration, an evaluation, a check before a rollout;
#                  its exit code is the verdict. With RUN_IMAGES, push-images runs first and the
#                  task runs the pushed digests. For example
#                    make run-aws RUN_NAME=migrate RUN_SERVICE=ml-model-service RUN_COMMAND='...'
#
# Variables (every one can also come from the environment; ?= defaults shown)
#   ECS_CLUSTER              the cluster                                   (required)
#   ECS_SERVICES             the services to deploy                        (required)
#   ECS_IMAGES_<service>     IMAGE=CONTAINER pairs for that service        (required)
#   DEPLOY_TIMEOUT           ecs-roll --timeout                            (15m)
#   ECS_MAX_PARALLEL         ecs-roll --max-parallel: services in flight at once   (unset: 50)
#   FAIL_FAST=1              ecs-roll --fail-fast: after a service fails, start no more
#   HEALTH_TIMEOUT           tg-health --timeout                           (5m)
#   HEALTH_GRACE             tg-health --grace                             (30s)
#   ECS_ROLL_FLAGS           extra ecs-roll flags, e.g. --no-rollback, --region eu-west-1
#   ECS_WAIT_UNTIL           a lifecycle stage: with one service that deploys BLUE_GREEN, LINEAR or
#                            CANARY, return once the deployment is past it (ecs-roll --wait-until,
#                            e.g. PRODUCTION_TRAFFIC_SHIFT: the bake time goes on without CI)
#   ECS_KEEP_REVISIONS       N: once a deploy succeeds, deregister the family's revisions beyond
#                            the newest N (ecs-roll --keep-revisions)       (unset: keep all)
#   TG_HEALTH_FLAGS          extra tg-health flags
#   SKIP_HEALTH=1            deploy without the target-health check (services without a load balancer)
#   SINCE, FOLLOW            for logs-aws                                  (10m, unset)
#   OUTPUT=json              status-aws as JSON Lines: one ecs-roll --status object a service
#                            (the service, deployments, events, task counts, targetHealth)
#   DEPLOY_PRE               targets each deploy-aws-SERVICE makes before it rolls out, e.g. a
#                            migrate-aws of yours that runs run-aws (set it before the include)
#   RUN_NAME                 names the run: the tasks' startedBy            (run)
#   RUN_SERVICE              run what this service runs, in its network     (this or RUN_TASK_DEF)
#   RUN_TASK_DEF             or this task definition: FAMILY[:REV], or a file
#   RUN_COMMAND              a command line for the container's /bin/sh -c (one argument, as
#                            written: the shell in the container reads it, not make's)
#   RUN_ARGS                 or the command as words, split at blanks, each one argument
#                            (for images without a shell); neither: the image's own command
#   RUN_CONTAINER            the container they go to (default: the first essential one)
#   RUN_IMAGES               IMAGE=CONTAINER pairs of pushed images to run (as ECS_IMAGES_)
#   RUN_TIMEOUT              ecs-run --timeout                              (30m)
#   ECS_RUN_FLAGS            extra ecs-run flags, e.g. --count 3, --env STAGE=eval
#   ECS_ROLL, TG_HEALTH, ECS_RUN   the tools (this checkout's bin/ when used from a shipkit tree)
#
# Values from outside are data, never shell or make code (mk/checks.mk; docs/make-fragments.md,
# "Hostile values"): values from the command line or the environment are taken as written (make
# never expands a `$` in them). ECS_CLUSTER, ECS_SERVICES and the containers of ECS_IMAGES_ are
# checked to be ECS names (letters, digits, - and _, up to 255), the images image names, before
# anything runs or is pushed; a bad one stops make with one line naming it. The durations are
# handed to the tools as one argument each, as written. ECS_ROLL_FLAGS, TG_HEALTH_FLAGS and the
# tools are word lists: split at blanks and passed on word by word, never evaluated.

ifndef _sk_deploy_mk
_sk_deploy_mk := 1
_sk_deploy_saved_goal := $(.DEFAULT_GOAL)
_sk_deploy_dir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
include $(_sk_deploy_dir)/checks.mk
_sk_deploy_src := $(if $(wildcard $(_sk_deploy_dir)/build/tools.mk),$(patsubst %/,%,$(dir $(_sk_deploy_dir))))

# Taken as written when they come from the command line or the environment (mk/checks.mk).
$(call _sk_literal,ECS_CLUSTER ECS_SERVICES ECS_ROLL TG_HEALTH DEPLOY_TIMEOUT HEALTH_TIMEOUT HEALTH_GRACE ECS_MAX_PARALLEL FAIL_FAST \
	ECS_ROLL_FLAGS ECS_KEEP_REVISIONS ECS_WAIT_UNTIL TG_HEALTH_FLAGS SKIP_HEALTH SINCE OUTPUT FOLLOW BUILD_DIR DEPLOY_PRE ECS_RUN RUN_NAME RUN_SERVICE \
	RUN_TASK_DEF RUN_COMMAND RUN_ARGS RUN_CONTAINER RUN_IMAGES RUN_TIMEOUT ECS_RUN_FLAGS)

ECS_ROLL ?= $(if $(_sk_deploy_src),$(_sk_deploy_src)/bin/ecs-roll,ecs-roll)
TG_HEALTH ?= $(if $(_sk_deploy_src),$(_sk_deploy_src)/bin/tg-health,tg-health)
ECS_RUN ?= $(if $(_sk_deploy_src),$(_sk_deploy_src)/bin/ecs-run,ecs-run)
RUN_NAME ?= run
RUN_TIMEOUT ?= 30m
ECS_RUN_FLAGS ?=
DEPLOY_TIMEOUT ?= 15m
HEALTH_TIMEOUT ?= 5m
HEALTH_GRACE ?= 30s
ECS_ROLL_FLAGS ?=
TG_HEALTH_FLAGS ?=
SINCE ?= 10m
BUILD_DIR ?= build

# Targets are made from the services' names (now): only when every one is a valid ECS name. Words
# only: the blanks between them (a newline is one) never reach a recipe as they were.
_sk_deploy_svcs := $(if $(call _sk_bad_list,ecs,ECS_SERVICES,$(ECS_SERVICES)),,$(strip $(ECS_SERVICES)))
$(call _sk_literal,$(addprefix ECS_IMAGES_,$(_sk_deploy_svcs)))

# What is wrong, if anything: for every target, then for deploying service $(1).
_sk_deploy_bad = $(or $(if $(strip $(ECS_CLUSTER)),,set ECS_CLUSTER),$(call _sk_bad,ecs,ECS_CLUSTER,$(ECS_CLUSTER)),\
	$(if $(strip $(ECS_SERVICES)),,set ECS_SERVICES),$(call _sk_bad_list,ecs,ECS_SERVICES,$(ECS_SERVICES)),\
	$(call _sk_bad_list,path,DEPLOY_PRE,$(DEPLOY_PRE)))
# The targets deploy-aws makes first: only when every one is a plain name (checked again, with the
# message, by _sk_deploy_bad).
_sk_deploy_pre := $(if $(call _sk_bad_list,path,DEPLOY_PRE,$(DEPLOY_PRE)),,$(strip $(DEPLOY_PRE)))
_sk_deploy_svc_bad_1 = $(or $(if $(strip $(ECS_IMAGES_$(1))),,set ECS_IMAGES_$(1) (IMAGE=CONTAINER pairs)),\
	$(call _sk_first,_sk_deploy_pair_bad,$(ECS_IMAGES_$(1)),$(1)),$(call _sk_bad,path,BUILD_DIR,$(BUILD_DIR)))
# $(call _sk_deploy_pair_bad,IMAGE=CONTAINER,SERVICE): a pushed image's name, then an ECS container name.
_sk_deploy_pair_bad = $(if $(call _sk_same_pair,$(1)),$(call _sk_pair_parts_bad,$(1),$(2)),$(call _sk_pair_not,$(1),$(2)))
_sk_pair_parts_bad = $(or $(call _sk_bad,image,ECS_IMAGES_$(2): image,$(call _sk_pair_image,$(1))),\
	$(call _sk_bad,ecs,ECS_IMAGES_$(2): container,$(call _sk_pair_container,$(1))))
_sk_pair_not = ECS_IMAGES_$(2): '$(call _sk_show,$(1))' is not an IMAGE=CONTAINER pair
_sk_pair_image = $(word 1,$(subst =, ,$(1)))
_sk_pair_container = $(word 2,$(subst =, ,$(1)))
_sk_same_pair = $(findstring x$(1)x,x$(call _sk_pair_image,$(1))=$(call _sk_pair_container,$(1))x)
# Stops make with "deploy.mk: ..." when $(1) is not empty; expands to nothing otherwise.
_sk_deploy_stop = $(if $(1),$(error deploy.mk: $(1)))

# Checked values only, from here on: ECS_CLUSTER, the service ($*) and the IMAGE=CONTAINER pairs.
_sk_cluster = $(call _sk_want,deploy.mk,ecs,ECS_CLUSTER)
_sk_image_refs = $(foreach p,$(ECS_IMAGES_$(1)),$(BUILD_DIR)/images/$(call _sk_pair_image,$(p)).ref)
# --image "CONTAINER=REGISTRY/REPO@sha256:..." for each IMAGE=CONTAINER pair of service $(1).
_sk_image_args = $(foreach p,$(ECS_IMAGES_$(1)),--image \
	"$(call _sk_pair_container,$(p))=$$(cat $(BUILD_DIR)/images/$(call _sk_pair_image,$(p)).ref)")

_sk_deploy_targets := $(addprefix deploy-aws-,$(_sk_deploy_svcs))
_sk_deploy_checks := $(addprefix _sk_deploy_check-,$(_sk_deploy_svcs))
.PHONY: deploy-aws status-aws logs-aws rollback-aws abort-aws $(_sk_deploy_targets) $(_sk_deploy_checks)

# The tools, flag lists and durations reach the recipes through the environment only: "$$VAR" for
# one argument; a word list unquoted under set -f (split at blanks, never globbed or evaluated).
deploy-aws status-aws logs-aws rollback-aws abort-aws $(_sk_deploy_targets): export _sk_dep_roll = $(ECS_ROLL)
deploy-aws status-aws logs-aws rollback-aws abort-aws $(_sk_deploy_targets): export _sk_dep_roll_flags = $(ECS_ROLL_FLAGS)
deploy-aws status-aws logs-aws $(_sk_deploy_targets): export _sk_dep_health = $(TG_HEALTH)
deploy-aws status-aws logs-aws $(_sk_deploy_targets): export _sk_dep_health_flags = $(TG_HEALTH_FLAGS)
deploy-aws rollback-aws abort-aws $(_sk_deploy_targets): export _sk_dep_timeout = $(DEPLOY_TIMEOUT)
deploy-aws $(_sk_deploy_targets): export _sk_dep_wait_until = $(ECS_WAIT_UNTIL)
deploy-aws $(_sk_deploy_targets): export _sk_dep_keep = $(ECS_KEEP_REVISIONS)
deploy-aws $(_sk_deploy_targets): export _sk_dep_health_timeout = $(HEALTH_TIMEOUT)
deploy-aws $(_sk_deploy_targets): export _sk_dep_grace = $(HEALTH_GRACE)
deploy-aws: export _sk_dep_parallel = $(ECS_MAX_PARALLEL)
logs-aws: export _sk_dep_since = $(SINCE)
status-aws: export _sk_dep_output = $(OUTPUT)

# Every service: one ecs-roll run (a fleet when there are several), then every service's targets at
# once; the first failure of a health check fails the target after all have answered.
deploy-aws: $(_sk_deploy_checks) push-images $(_sk_deploy_pre)
	@$(call _sk_deploy_stop,$(or $(_sk_deploy_bad),$(if $(_sk_deploy_svcs),,set ECS_SERVICES before including deploy.mk),\
		$(call _sk_first,_sk_deploy_svc_bad_1,$(_sk_deploy_svcs))))
	@for r in $(foreach s,$(_sk_deploy_svcs),$(call _sk_image_refs,$(s))); do test -s "$$r" || \
		{ printf '%s\n' "deploy.mk: $$r missing: did push-images run?" >&2; exit 1; }; done
	@echo '   ROLL $(_sk_cluster): $(_sk_deploy_svcs)'
	@set -f; $$_sk_dep_roll --cluster $(_sk_cluster) $(foreach s,$(_sk_deploy_svcs),--service $(s) $(call _sk_image_args,$(s))) \
		--timeout "$$_sk_dep_timeout" $${_sk_dep_keep:+--keep-revisions "$$_sk_dep_keep"} \
		$${_sk_dep_wait_until:+--wait-until "$$_sk_dep_wait_until"} \
		$(if $(word 2,$(_sk_deploy_svcs)),$${_sk_dep_parallel:+--max-parallel "$$_sk_dep_parallel"} $(if $(FAIL_FAST),--fail-fast)) \
		$$_sk_dep_roll_flags
	@$(if $(SKIP_HEALTH),echo "deploy.mk: SKIP_HEALTH set: target health not checked",set -f; pids=; \
		for s in $(_sk_deploy_svcs); do echo " HEALTH $(_sk_cluster)/$$s"; \
			$$_sk_dep_health --service $(_sk_cluster)/"$$s" --wait --timeout "$$_sk_dep_health_timeout" \
			--grace "$$_sk_dep_grace" $$_sk_dep_health_flags & pids="$$pids $$!"; done; \
		rc=0; for p in $$pids; do wait "$$p" || rc=1; done; exit $$rc)

# Checked before push-images runs, so a bad name pushes nothing.
$(_sk_deploy_checks): _sk_deploy_check-%:
	@$(call _sk_deploy_stop,$(or $(_sk_deploy_bad),$(call _sk_deploy_svc_bad_1,$*)))

# One service: roll it out with the pushed digests, then wait for its targets.
$(_sk_deploy_targets): deploy-aws-%: _sk_deploy_check-% push-images $(_sk_deploy_pre)
	@$(call _sk_deploy_stop,$(or $(_sk_deploy_bad),$(call _sk_deploy_svc_bad_1,$*)))
	@for r in $(call _sk_image_refs,$*); do test -s "$$r" || \
		{ printf '%s\n' "deploy.mk: $$r missing: did push-images run?" >&2; exit 1; }; done
	@echo '   ROLL $(_sk_cluster)/$*'
	@set -f; $$_sk_dep_roll --cluster $(_sk_cluster) --service $* $(call _sk_image_args,$*) \
		--timeout "$$_sk_dep_timeout" $${_sk_dep_keep:+--keep-revisions "$$_sk_dep_keep"} \
		$${_sk_dep_wait_until:+--wait-until "$$_sk_dep_wait_until"} $$_sk_dep_roll_flags
	@$(if $(SKIP_HEALTH),echo "deploy.mk: SKIP_HEALTH set: target health not checked",echo ' HEALTH $(_sk_cluster)/$*'; \
		set -f; $$_sk_dep_health --service $(_sk_cluster)/$* --wait --timeout "$$_sk_dep_health_timeout" \
		--grace "$$_sk_dep_grace" $$_sk_dep_health_flags)

# ECS_SERVICES is read when the recipe runs, checked by its first line.
status-aws:
	@$(call _sk_deploy_stop,$(or $(_sk_deploy_bad),$(if $(filter-out text json,$(OUTPUT)),OUTPUT '$(call _sk_show,$(OUTPUT))' is not text or json)))
	@set -f; if [ "$$_sk_dep_output" = json ]; then for s in $(strip $(ECS_SERVICES)); do \
		$$_sk_dep_roll --cluster $(_sk_cluster) --service "$$s" --status --query . $$_sk_dep_roll_flags || exit; \
	done; exit 0; fi; \
	for s in $(strip $(ECS_SERVICES)); do \
		$$_sk_dep_roll --cluster $(_sk_cluster) --service "$$s" --status $$_sk_dep_roll_flags; \
		echo "targets"; \
		$$_sk_dep_health --service $(_sk_cluster)/"$$s" $$_sk_dep_health_flags || true; \
	done

# Every service back to its last successful deployment's revision, or its deployment in progress
# stopped and rolled back; the exit code is the last failure's (each service is still tried).
rollback-aws abort-aws:
	@$(call _sk_deploy_stop,$(_sk_deploy_bad))
	@set -f; rc=0; for s in $(strip $(ECS_SERVICES)); do \
		$$_sk_dep_roll --cluster $(_sk_cluster) --service "$$s" --$(patsubst %-aws,%,$@) --timeout "$$_sk_dep_timeout" \
			$$_sk_dep_roll_flags || rc=$$?; \
	done; exit $$rc

logs-aws:
	@$(call _sk_deploy_stop,$(_sk_deploy_bad))
	@set -f; for s in $(strip $(ECS_SERVICES)); do \
		$$_sk_dep_roll --cluster $(_sk_cluster) --service "$$s" --logs --since "$$_sk_dep_since" \
			$(if $(FOLLOW),--follow) $$_sk_dep_roll_flags & \
	done; wait

# ---- run-aws: one one-off task --------------------------------------------------------------------
# What is wrong with the run's settings, if anything (read when the recipe runs, so a target that
# sets them for its run-aws prerequisite, such as a migrate-aws, is what is checked).
_sk_run_bad = $(or $(if $(strip $(ECS_CLUSTER)),,set ECS_CLUSTER),$(call _sk_bad,ecs,ECS_CLUSTER,$(ECS_CLUSTER)),\
	$(call _sk_bad,ecs,RUN_NAME,$(RUN_NAME)),\
	$(if $(RUN_SERVICE),$(if $(RUN_TASK_DEF),RUN_SERVICE and RUN_TASK_DEF exclude each other)),\
	$(if $(RUN_SERVICE)$(RUN_TASK_DEF),,set RUN_SERVICE or RUN_TASK_DEF),\
	$(if $(RUN_SERVICE),$(call _sk_bad,ecs,RUN_SERVICE,$(RUN_SERVICE))),\
	$(if $(RUN_CONTAINER),$(call _sk_bad,ecs,RUN_CONTAINER,$(RUN_CONTAINER))),\
	$(if $(RUN_COMMAND),$(if $(RUN_ARGS),RUN_COMMAND and RUN_ARGS exclude each other)),\
	$(call _sk_first,_sk_run_pair_bad,$(RUN_IMAGES)),$(if $(RUN_IMAGES),$(call _sk_bad,path,BUILD_DIR,$(BUILD_DIR))))
_sk_run_pair_bad = $(if $(call _sk_same_pair,$(1)),$(or $(call _sk_bad,image,RUN_IMAGES: image,$(call _sk_pair_image,$(1))),\
	$(call _sk_bad,ecs,RUN_IMAGES: container,$(call _sk_pair_container,$(1)))),RUN_IMAGES: '$(call _sk_show,$(1))' is not an IMAGE=CONTAINER pair)
_sk_run_refs = $(foreach p,$(RUN_IMAGES),$(BUILD_DIR)/images/$(call _sk_pair_image,$(p)).ref)
_sk_run_image_args = $(foreach p,$(RUN_IMAGES),--image \
	"$(call _sk_pair_container,$(p))=$$(cat $(BUILD_DIR)/images/$(call _sk_pair_image,$(p)).ref)")
_sk_run_stop = $(if $(1),$(error deploy.mk: $(1)))

.PHONY: run-aws _sk_run_push
# push-images only when the run takes pushed images (its prerequisites are read now: RUN_IMAGES
# given on the command line or in the environment; a target of yours that sets RUN_IMAGES for
# run-aws also names push-images first).
run-aws: $(if $(RUN_IMAGES),push-images)
run-aws: export _sk_run_tool = $(ECS_RUN)
run-aws: export _sk_run_flags = $(ECS_RUN_FLAGS)
run-aws: export _sk_run_name = $(RUN_NAME)
run-aws: export _sk_run_what = $(or $(RUN_SERVICE),$(RUN_TASK_DEF))
run-aws: export _sk_run_container = $(RUN_CONTAINER)
run-aws: export _sk_run_timeout = $(RUN_TIMEOUT)
run-aws: export _sk_run_command = $(RUN_COMMAND)
run-aws: export _sk_run_args = $(RUN_ARGS)
run-aws:
	@$(call _sk_run_stop,$(_sk_run_bad))
	@for r in $(_sk_run_refs); do test -s "$$r" || \
		{ printf '%s\n' "deploy.mk: $$r missing: did push-images run?" >&2; exit 1; }; done
	@echo '    RUN $(_sk_cluster) $(RUN_NAME)'
	@set -f; $$_sk_run_tool --cluster $(_sk_cluster) $(if $(RUN_SERVICE),--service,--task-def) "$$_sk_run_what" \
		--started-by "$$_sk_run_name" --timeout "$$_sk_run_timeout" \
		$(if $(RUN_CONTAINER),--container "$$_sk_run_container") $(_sk_run_image_args) $$_sk_run_flags \
		$(if $(RUN_COMMAND),-- /bin/sh -c "$$_sk_run_command",$(if $(RUN_ARGS),-- $$_sk_run_args))

# Including this file must not change the includer's default goal.
.DEFAULT_GOAL := $(_sk_deploy_saved_goal)
endif
