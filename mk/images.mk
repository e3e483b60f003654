# mk/images.mk: build container images and push them to Amazon ECR (shipkit).
#
# Include it from your Makefile AFTER setting the variables (targets are made at include time):
#
#   IMAGES := model-server mlflow
#   IMAGE_CONTEXT_model-server := services/model   # build context (default: the image's name)
#   IMAGE_DEPS_model-server := services/model/app  # files to make before the build (optional)
#   include shipkit/mk/images.mk
#
# Targets
#   build-images         every image -> $(BUILD_DIR)/images/<name>.tar (OCI archive with buildah
#                        and podman, docker-archive with docker); rebuilt only when a file in the
#                        context, the Dockerfile, IMAGE_DEPS or a build setting changed
#   push-images          build-images, then $(ECR_PUSH) each archive to
#                        $(ECR_REGISTRY)/$(IMAGE_REPO_<name>):$(IMAGE_TAG); writes <name>.digest
#                        (by ecr-push) and <name>.ref (the REGISTRY/REPO@sha256:... it printed,
#                        for deploy-aws); pushed again only when the archive or destination changed
#   build-image-<name>, push-image-<name>   one image
#   images-info          print the resolved settings of every image
#   clean-images         remove $(BUILD_DIR)/images
#
# Variables (set before the include; ?= defaults shown)
#   IMAGES                   image names (also the local image names): lowercase, no spaces
#   IMAGE_CONTEXT_<name>     build context directory              (<name>)
#   IMAGE_DOCKERFILE_<name>  Dockerfile                           (<context>/Dockerfile)
#   IMAGE_DEPS_<name>        files to make first, e.g. a binary the Dockerfile COPYs   (none)
#   IMAGE_BUILD_FLAGS        extra build flags for every image, e.g. --platform linux/amd64
#   IMAGE_BUILD_FLAGS_<name> extra build flags for one image, e.g. --build-arg VERSION=2
#   IMAGE_REPO_<name>        ECR repository                       (<name>)
#   IMAGE_TAG                the tag pushed: `git rev-parse --short HEAD`, plus -dirty when
#                            `git status --porcelain` prints anything; "latest" outside git
#   ECR_REGISTRY             registry host, e.g. 123456789012.dkr.ecr.us-west-2.amazonaws.com;
#                            empty: ecr-push uses the account's registry (GetAuthorizationToken)
#   ECR_PUSH                 the pusher (ecr-push on PATH; this checkout's bin/ecr-push when the
#                            fragment is used from a shipkit source tree)
#   ECR_PUSH_FLAGS           extra ecr-push flags, e.g. --region us-west-2 --profile prod
#   BUILD_DIR                output directory                     (build)
#   IMAGE_BUILDER            docker, buildah or podman (a path is fine). Default: docker if
#                            `docker info` succeeds, else buildah if on PATH, else podman
#   BUILDAH_FLAGS            global buildah flags                 (--storage-driver vfs)
#   BUILDAH_BUD_FLAGS        buildah bud flags                    (--isolation chroot)
#   PODMAN_FLAGS             global podman flags                  (--storage-driver vfs)
#   PODMAN_BUILD_FLAGS       podman build flags                   (--isolation chroot)
#   DOCKER_BUILD_FLAGS       docker build flags                   (none)
#   V=1                      show the commands
#
# The vfs driver and chroot isolation let buildah and podman build without a daemon, as root or
# rootless, inside containers and CI runners where overlay mounts and runc namespaces are not
# available. vfs keeps its images apart from an overlay store in the same root.
#
# Assumes GNU make >= 4.2 (4.3 tested), paths without spaces, colons or '%'; safe with make -j.
# Keep $(BUILD_DIR) and built binaries out of git (.gitignore), or the default IMAGE_TAG turns
# -dirty as soon as something is built. docs/make-fragments.md has the details.

ifndef _sk_images_mk
_sk_images_mk := 1
_sk_saved_goal := $(.DEFAULT_GOAL)

_sk_mk_dir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

BUILD_DIR ?= build
IMAGES ?=
IMAGE_BUILD_FLAGS ?=
ECR_REGISTRY ?=
ECR_PUSH_FLAGS ?=
BUILDAH_FLAGS ?= --storage-driver vfs
BUILDAH_BUD_FLAGS ?= --isolation chroot
PODMAN_FLAGS ?= --storage-driver vfs
PODMAN_BUILD_FLAGS ?= --isolation chroot
DOCKER_BUILD_FLAGS ?=

# Evaluated once, at include time, so every target of one make run uses the same tag.
ifeq ($(origin IMAGE_TAG),undefined)
IMAGE_TAG := $(shell sha=$$(git rev-parse --short HEAD 2>/dev/null) || { echo latest; exit 0; }; \
	if [ -n "$$(git status --porcelain 2>/dev/null)" ]; then echo "$$sha-dirty"; else echo "$$sha"; fi)
endif

# From a shipkit source tree (mk/build/ beside this file), use its own bin/ecr-push.
ifeq ($(origin ECR_PUSH),undefined)
_sk_src_dir := $(if $(wildcard $(_sk_mk_dir)/build/tools.mk),$(patsubst %/,%,$(dir $(_sk_mk_dir))))
ifneq ($(_sk_src_dir),)
ECR_PUSH := $(_sk_src_dir)/bin/ecr-push
else
ECR_PUSH := ecr-push
endif
endif

# Detected on first use only (docker info can take a moment), then remembered.
ifeq ($(origin IMAGE_BUILDER),undefined)
IMAGE_BUILDER = $(eval IMAGE_BUILDER := $(shell \
	if docker info >/dev/null 2>&1; then echo docker; \
	elif command -v buildah >/dev/null 2>&1; then echo buildah; \
	elif command -v podman >/dev/null 2>&1; then echo podman; fi))$(IMAGE_BUILDER)
endif

ifeq ($(V),1)
_sk_Q :=
else
_sk_Q := @
endif

_sk_dir := $(BUILD_DIR)/images
_sk_kind = $(notdir $(firstword $(IMAGE_BUILDER)))
# Outputs never count as context files, however the context and BUILD_DIR are spelled.
_sk_outputs := $(BUILD_DIR)/% ./$(BUILD_DIR)/% $(abspath $(BUILD_DIR))/%

_sk_empty :=
_sk_space := $(_sk_empty) $(_sk_empty)
_sk_comma := ,
define _sk_nl


endef

# $(call _sk_same,A,B): non-empty when A and B are exactly equal (the x's make "" work).
_sk_same = $(and $(findstring x$(1)x,x$(2)x),$(findstring x$(2)x,x$(1)x))
# $(call _sk_update,FILE,TEXT): rewrite FILE only when its text changes, so its mtime is a
# trustworthy prerequisite (the .build-flags idiom, without command-line length limits).
# Nothing is written under make -n.
_sk_dry = $(findstring n,$(firstword -$(MAKEFLAGS)))
# Compared with whitespace squeezed ($(file <) keeps or drops the final newline by make version).
_sk_update = $(if $(_sk_dry)$(call _sk_same,$(strip $(file <$(1))),$(strip $(2))),,$(file >$(1),$(2)))

# $(call _sk_dest,NAME): where NAME is pushed.
_sk_dest = $(if $(ECR_REGISTRY),$(ECR_REGISTRY)/)$(IMAGE_REPO_$(1)):$(IMAGE_TAG)

# Shell snippets (one logical line, inside a `set -e` recipe).
_sk_fail = { echo "images.mk: $(1)" >&2; exit 1; }
_sk_check_tag = case '$(IMAGE_TAG)' in ''|*[!A-Za-z0-9_.-]*|[.-]*) \
	$(call _sk_fail,IMAGE_TAG '$(IMAGE_TAG)' is not a valid tag ([A-Za-z0-9_][A-Za-z0-9_.-]*));; esac
_sk_check_builder = \
	[ -n '$(IMAGE_BUILDER)' ] || $(call _sk_fail,no image builder: 'docker info' failed and neither \
buildah nor podman is on PATH; install one (Debian: apt-get install buildah) or set IMAGE_BUILDER); \
	command -v '$(firstword $(IMAGE_BUILDER))' >/dev/null 2>&1 || \
	$(call _sk_fail,IMAGE_BUILDER=$(IMAGE_BUILDER): command not found)

# $(call _sk_build_cmd,NAME,TMP): build NAME and write its archive to TMP. Joined with && (set -e
# does not apply inside a list whose status is tested).
_sk_build_docker = \
	$(IMAGE_BUILDER) build $(DOCKER_BUILD_FLAGS) $(IMAGE_BUILD_FLAGS) $(IMAGE_BUILD_FLAGS_$(1)) \
		-t $(1):$(IMAGE_TAG) -f $(IMAGE_DOCKERFILE_$(1)) $(IMAGE_CONTEXT_$(1)) && \
	$(IMAGE_BUILDER) save -o $(2) $(1):$(IMAGE_TAG)
_sk_build_buildah = \
	$(IMAGE_BUILDER) $(BUILDAH_FLAGS) bud $(BUILDAH_BUD_FLAGS) $(IMAGE_BUILD_FLAGS) $(IMAGE_BUILD_FLAGS_$(1)) \
		-t $(1):$(IMAGE_TAG) -f $(IMAGE_DOCKERFILE_$(1)) $(IMAGE_CONTEXT_$(1)) && \
	$(IMAGE_BUILDER) $(BUILDAH_FLAGS) push $(1):$(IMAGE_TAG) oci-archive:$(2)
_sk_build_podman = \
	$(IMAGE_BUILDER) $(PODMAN_FLAGS) build $(PODMAN_BUILD_FLAGS) $(IMAGE_BUILD_FLAGS) $(IMAGE_BUILD_FLAGS_$(1)) \
		-t $(1):$(IMAGE_TAG) -f $(IMAGE_DOCKERFILE_$(1)) $(IMAGE_CONTEXT_$(1)) && \
	$(IMAGE_BUILDER) $(PODMAN_FLAGS) save --format oci-archive -o $(2) $(1):$(IMAGE_TAG)
_sk_build_cmd = $(if $(filter docker buildah podman,$(_sk_kind)),$(call _sk_build_$(_sk_kind),$(1),$(2)),\
	$(call _sk_fail,IMAGE_BUILDER=$(IMAGE_BUILDER): not docker$(_sk_comma) buildah or podman))

# What a build depends on besides file times: the settings and the list of context files (so an
# added or deleted file counts). The tag is not in it: it names the push, not the image content.
_sk_builder_flags = $(if $(filter docker,$(_sk_kind)),$(DOCKER_BUILD_FLAGS),$(if $(filter podman,$(_sk_kind)),\
	$(PODMAN_FLAGS) $(PODMAN_BUILD_FLAGS),$(BUILDAH_FLAGS) $(BUILDAH_BUD_FLAGS)))
define _sk_build_inputs
builder $(strip $(_sk_kind) $(_sk_builder_flags))
flags $(strip $(IMAGE_BUILD_FLAGS) $(IMAGE_BUILD_FLAGS_$(1)))
context $(IMAGE_CONTEXT_$(1))
dockerfile $(IMAGE_DOCKERFILE_$(1))
$(subst $(_sk_space),$(_sk_nl),$(strip files $(_sk_files_$(1))))
endef
_sk_push_inputs = $(strip $(ECR_PUSH) $(ECR_PUSH_FLAGS)) -> $(call _sk_dest,$(1))

define _sk_image_rules
IMAGE_CONTEXT_$(1) ?= $(1)
IMAGE_DOCKERFILE_$(1) ?= $$(IMAGE_CONTEXT_$(1))/Dockerfile
IMAGE_REPO_$(1) ?= $(1)
IMAGE_DEPS_$(1) ?=
IMAGE_BUILD_FLAGS_$(1) ?=
_sk_files_$(1) := $$(sort $$(filter-out $$(_sk_outputs),\
	$$(shell find $$(IMAGE_CONTEXT_$(1)) -name .git -prune -o -type f -print 2>/dev/null)) \
	$$(IMAGE_DEPS_$(1)) $$(wildcard $$(IMAGE_DOCKERFILE_$(1))))

$(_sk_dir)/$(1).inputs: _sk_force | $(_sk_dir)
	$$(call _sk_update,$$@,$$(call _sk_build_inputs,$(1)))
	@:

$(_sk_dir)/$(1).tar: $(_sk_dir)/$(1).inputs $$(_sk_files_$(1))
	$(_sk_Q)set -e; \
	[ -d '$$(IMAGE_CONTEXT_$(1))' ] || $$(call _sk_fail,$(1): no context directory '$$(IMAGE_CONTEXT_$(1))' (set IMAGE_CONTEXT_$(1))); \
	[ -f '$$(IMAGE_DOCKERFILE_$(1))' ] || $$(call _sk_fail,$(1): no Dockerfile '$$(IMAGE_DOCKERFILE_$(1))' (set IMAGE_DOCKERFILE_$(1))); \
	$$(_sk_check_builder); $$(_sk_check_tag); \
	echo '  IMAGE $$@ ($$(_sk_kind))'; \
	rm -f $$@.tmp; \
	( set -e; $$(call _sk_build_cmd,$(1),$$@.tmp) ) || { rm -f $$@.tmp; $$(call _sk_fail,building $(1) with $$(IMAGE_BUILDER) failed); }; \
	mv -f $$@.tmp $$@

$(_sk_dir)/$(1).push-inputs: _sk_force | $(_sk_dir)
	$$(call _sk_update,$$@,$$(call _sk_push_inputs,$(1)))
	@:

$(_sk_dir)/$(1).ref: $(_sk_dir)/$(1).tar $(_sk_dir)/$(1).push-inputs
	$(_sk_Q)set -e; ok=0; \
	rm -f $$@ $$@.out $$@.tmp $(_sk_dir)/$(1).digest; \
	trap '[ "$$$$ok" = 1 ] || rm -f $$@.out $$@.tmp $(_sk_dir)/$(1).digest' EXIT; \
	$$(_sk_check_tag); \
	command -v '$$(firstword $$(ECR_PUSH))' >/dev/null 2>&1 || $$(call _sk_fail,ECR_PUSH=$$(ECR_PUSH): command not found\
$$(if $$(_sk_src_dir),$$(if $$(filter $$(_sk_src_dir)/bin/ecr-push,$$(ECR_PUSH)),(build it: make -C $$(_sk_src_dir) bin/ecr-push))) (set ECR_PUSH)); \
	echo '   PUSH $$< -> $$(call _sk_dest,$(1))'; \
	if ! $$(ECR_PUSH) $$(ECR_PUSH_FLAGS) --digest-file $(_sk_dir)/$(1).digest $$< $$(call _sk_dest,$(1)) >$$@.out; then \
		cat $$@.out; $$(call _sk_fail,pushing $(1) with $$(ECR_PUSH) failed); fi; \
	cat $$@.out; \
	ref=$$$$(grep -E '^[^[:space:]@]+@sha256:[0-9a-f]{64}$$$$' $$@.out | tail -n 1) || true; \
	[ -n "$$$$ref" ] || $$(call _sk_fail,$$(ECR_PUSH) printed no REGISTRY/REPO@sha256:<hex> line for $(1)); \
	[ -s $(_sk_dir)/$(1).digest ] || $$(call _sk_fail,$$(ECR_PUSH) wrote no $(_sk_dir)/$(1).digest); \
	printf '%s\n' "$$$$ref" >$$@.tmp; mv -f $$@.tmp $$@; rm -f $$@.out; ok=1

.PHONY: build-image-$(1) push-image-$(1)
build-image-$(1): $(_sk_dir)/$(1).tar
push-image-$(1): $(_sk_dir)/$(1).ref
endef

$(foreach i,$(IMAGES),$(eval $(call _sk_image_rules,$(i))))

.PHONY: build-images push-images images-info clean-images _sk_force
build-images: $(IMAGES:%=$(_sk_dir)/%.tar)
	$(if $(IMAGES),@:,@echo 'images.mk: IMAGES is empty: nothing to build' >&2)

push-images: $(IMAGES:%=$(_sk_dir)/%.ref)
	$(if $(IMAGES),@:,@echo 'images.mk: IMAGES is empty: nothing to push' >&2)

images-info:
	@echo 'IMAGE_TAG=$(IMAGE_TAG)'
	@echo 'IMAGE_BUILDER=$(IMAGE_BUILDER)'
	@echo 'ECR_PUSH=$(strip $(ECR_PUSH) $(ECR_PUSH_FLAGS))'
	@$(foreach i,$(IMAGES),echo '$(i): context $(IMAGE_CONTEXT_$(i)), dockerfile $(IMAGE_DOCKERFILE_$(i)), \
archive $(_sk_dir)/$(i).tar -> $(call _sk_dest,$(i))';)

clean-images:
	rm -rf $(_sk_dir)

$(_sk_dir):
	@mkdir -p $@

_sk_force:

# Including this file does not change the Makefile's default goal.
.DEFAULT_GOAL := $(_sk_saved_goal)
endif
