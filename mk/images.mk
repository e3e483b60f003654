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
#   IMAGES                   image names (also the local image names): lowercase OCI names
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
# Values from outside are data, never shell or make code (mk/checks.mk; docs/make-fragments.md,
# "Hostile values"): values from the command line or the environment are taken as written (make
# never expands a `$` in them); names are checked before anything runs and a bad one stops make
# with one line naming the variable and the value: IMAGE_TAG an OCI tag
# ([A-Za-z0-9_][A-Za-z0-9._-]{0,127}), IMAGES image names, IMAGE_REPO_<name> ECR repository names,
# ECR_REGISTRY HOST[:PORT], and BUILD_DIR, IMAGE_CONTEXT_, IMAGE_DOCKERFILE_ and IMAGE_DEPS_ paths
# of letters, digits and ._/+@,- only. The *_FLAGS variables, IMAGE_BUILDER and ECR_PUSH are word
# lists: split at blanks and handed to the tool word by word, as written; quotes, $, backticks and
# globs in them are passed on literally, never evaluated (so a flag's value cannot hold a blank).
#
# Assumes GNU make >= 4.2 (4.3 tested); safe with make -j.
# Keep $(BUILD_DIR) and built binaries out of git (.gitignore), or the default IMAGE_TAG turns
# -dirty as soon as something is built. docs/make-fragments.md has the details.

ifndef _sk_images_mk
_sk_images_mk := 1
_sk_saved_goal := $(.DEFAULT_GOAL)

_sk_mk_dir := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
include $(_sk_mk_dir)/checks.mk

# Taken as written when they come from the command line or the environment (mk/checks.mk).
$(call _sk_literal,IMAGES IMAGE_BUILD_FLAGS IMAGE_TAG ECR_REGISTRY ECR_PUSH ECR_PUSH_FLAGS BUILD_DIR \
	IMAGE_BUILDER BUILDAH_FLAGS BUILDAH_BUD_FLAGS PODMAN_FLAGS PODMAN_BUILD_FLAGS DOCKER_BUILD_FLAGS V)

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
_sk_src_dir := $(if $(wildcard $(_sk_mk_dir)/build/tools.mk),$(patsubst %/,%,$(dir $(_sk_mk_dir))))
ifeq ($(origin ECR_PUSH),undefined)
ECR_PUSH := $(if $(_sk_src_dir),$(_sk_src_dir)/bin/ecr-push,ecr-push)
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

# The names and paths that rules are made of are checked before any rule is made. With a bad one,
# no rule is made from it and every target of this file stops with one line naming it.
define _sk_image_vars
$$(call _sk_literal,IMAGE_CONTEXT_$(1) IMAGE_DOCKERFILE_$(1) IMAGE_DEPS_$(1) IMAGE_BUILD_FLAGS_$(1) IMAGE_REPO_$(1))
IMAGE_CONTEXT_$(1) ?= $(1)
IMAGE_DOCKERFILE_$(1) ?= $$(IMAGE_CONTEXT_$(1))/Dockerfile
IMAGE_REPO_$(1) ?= $(1)
IMAGE_DEPS_$(1) ?=
IMAGE_BUILD_FLAGS_$(1) ?=
endef
_sk_image_bad = $(or $(call _sk_bad,path,IMAGE_CONTEXT_$(1),$(IMAGE_CONTEXT_$(1))),\
	$(call _sk_bad,path,IMAGE_DOCKERFILE_$(1),$(IMAGE_DOCKERFILE_$(1))),\
	$(call _sk_bad_list,path,IMAGE_DEPS_$(1),$(IMAGE_DEPS_$(1))))
_sk_images_bad := $(or $(call _sk_bad,path,BUILD_DIR,$(BUILD_DIR)),$(call _sk_bad_list,image,IMAGES,$(IMAGES)))
ifeq ($(_sk_images_bad),)
$(foreach i,$(IMAGES),$(eval $(call _sk_image_vars,$(i))))
_sk_images_bad := $(call _sk_first,_sk_image_bad,$(IMAGES))
endif

.PHONY: build-images push-images images-info clean-images _sk_force

ifeq ($(_sk_images_bad),)

_sk_dir := $(BUILD_DIR)/images
_sk_kind = $(notdir $(firstword $(IMAGE_BUILDER)))
_sk_kind_ok = $(filter docker buildah podman,$(_sk_kind))
# Outputs never count as context files, however the context and BUILD_DIR are spelled.
_sk_outputs := $(BUILD_DIR)/% ./$(BUILD_DIR)/% $(abspath $(BUILD_DIR))/%

# $(call _sk_same,A,B): non-empty when A and B are exactly equal (the x's make "" work).
_sk_same = $(and $(findstring x$(1)x,x$(2)x),$(findstring x$(2)x,x$(1)x))
# $(call _sk_update,FILE,TEXT): rewrite FILE only when its text changes, so its mtime is a
# trustworthy prerequisite (the .build-flags idiom, without command-line length limits).
# Nothing is written under make -n.
_sk_dry = $(findstring n,$(firstword -$(MAKEFLAGS)))
# Compared with whitespace squeezed ($(file <) keeps or drops the final newline by make version).
_sk_update = $(if $(_sk_dry)$(call _sk_same,$(strip $(file <$(1))),$(strip $(2))),,$(file >$(1),$(2)))

# Checked values, for recipes: make stops with one line naming a bad one.
_sk_want_img = $(call _sk_want,images.mk,$(1),$(2))
_sk_tag = $(call _sk_want_img,tag,IMAGE_TAG)
# $(call _sk_dest,NAME): where NAME is pushed.
_sk_dest = $(if $(ECR_REGISTRY),$(call _sk_want_img,registry,ECR_REGISTRY)/)$(call \
	_sk_want_img,ecr,IMAGE_REPO_$(1)):$(_sk_tag)

# Shell snippets (one logical line, inside a `set -ef` recipe). The message is fixed text, checked
# names and "$$_sk_img_*" references to the environment (shown on one line, see below).
_sk_fail = { printf '%s\n' "images.mk: $(1)" >&2; exit 1; }
_sk_check_builder = $(if $(strip $(IMAGE_BUILDER)),,$(error images.mk: no image builder: 'docker info' \
	failed and neither buildah nor podman is on PATH; install one (Debian: apt-get install buildah) or set IMAGE_BUILDER))

# The tools and flag lists reach the recipes through the environment only, as word lists: expanded
# unquoted under set -f, so split at blanks and never globbed or evaluated.
_sk_img_targets = $(foreach i,$(IMAGES),$(_sk_dir)/$(i).tar $(_sk_dir)/$(i).ref) images-info
$(_sk_img_targets): export _sk_img_builder = $(IMAGE_BUILDER)
$(_sk_img_targets): export _sk_img_builder_cmd = $(firstword $(IMAGE_BUILDER))
$(_sk_img_targets): export _sk_img_builder_show = $(call _sk_show,$(strip $(IMAGE_BUILDER)))
$(_sk_img_targets): export _sk_img_gflags = $(if $(filter buildah,$(_sk_kind)),$(BUILDAH_FLAGS),$(if \
	$(filter podman,$(_sk_kind)),$(PODMAN_FLAGS)))
$(_sk_img_targets): export _sk_img_cflags = $(if $(filter buildah,$(_sk_kind)),$(BUILDAH_BUD_FLAGS),$(if \
	$(filter podman,$(_sk_kind)),$(PODMAN_BUILD_FLAGS),$(DOCKER_BUILD_FLAGS)))
$(_sk_img_targets): export _sk_img_push = $(ECR_PUSH)
$(_sk_img_targets): export _sk_img_push_cmd = $(firstword $(ECR_PUSH))
$(_sk_img_targets): export _sk_img_push_flags = $(ECR_PUSH_FLAGS)
$(_sk_img_targets): export _sk_img_push_show = $(call _sk_show,$(strip $(ECR_PUSH)))
$(_sk_img_targets): export _sk_img_push_hint = $(if $(_sk_src_dir),$(if $(filter \
	$(_sk_src_dir)/bin/ecr-push,$(ECR_PUSH)),$(_sk_space)(build it: make -C $(call _sk_show,$(_sk_src_dir)) bin/ecr-push)))
images-info: export _sk_img_pusher_show = $(call _sk_show,$(strip $(ECR_PUSH) $(ECR_PUSH_FLAGS)))

# $(call _sk_build_cmd,NAME,TMP): build NAME and write its archive to TMP. Joined with && (set -e
# does not apply inside a list whose status is tested).
_sk_build_docker = \
	$$_sk_img_builder build $$_sk_img_cflags $$_sk_img_flags -t $(1):$(_sk_tag) -f $(_sk_df_$(1)) $(_sk_ctx_$(1)) && \
	$$_sk_img_builder save -o $(2) $(1):$(_sk_tag)
_sk_build_buildah = \
	$$_sk_img_builder $$_sk_img_gflags bud $$_sk_img_cflags $$_sk_img_flags \
		-t $(1):$(_sk_tag) -f $(_sk_df_$(1)) $(_sk_ctx_$(1)) && \
	$$_sk_img_builder $$_sk_img_gflags push $(1):$(_sk_tag) oci-archive:$(2)
_sk_build_podman = \
	$$_sk_img_builder $$_sk_img_gflags build $$_sk_img_cflags $$_sk_img_flags \
		-t $(1):$(_sk_tag) -f $(_sk_df_$(1)) $(_sk_ctx_$(1)) && \
	$$_sk_img_builder $$_sk_img_gflags save --format oci-archive -o $(2) $(1):$(_sk_tag)
_sk_build_cmd = $(if $(_sk_kind_ok),$(call _sk_build_$(_sk_kind_ok),$(1),$(2)),\
	$(call _sk_fail,IMAGE_BUILDER=$$_sk_img_builder_show: not docker$(_sk_comma) buildah or podman))

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

# The context's files: those with a name make can take are prerequisites; any other one counts by
# its time, size and inode (a //T/S/I word in .inputs), so changing it rebuilds too.
_sk_find = $(shell LC_ALL=C find $(1) -regextype posix-extended -name .git -prune -o -type f \
	-regex '[A-Za-z0-9._/+@,-]+' -print -o -type f -printf '//%T@/%s/%i\n' 2>/dev/null)

define _sk_image_rules
_sk_ctx_$(1) = $$(call _sk_want_img,path,IMAGE_CONTEXT_$(1))
_sk_df_$(1) = $$(call _sk_want_img,path,IMAGE_DOCKERFILE_$(1))
_sk_files_$(1) := $$(sort $$(filter-out $$(_sk_outputs),$$(call _sk_find,$$(IMAGE_CONTEXT_$(1)))) \
	$$(IMAGE_DEPS_$(1)) $$(wildcard $$(IMAGE_DOCKERFILE_$(1))))

# The tag is checked here too, before IMAGE_DEPS are made.
$(_sk_dir)/$(1).inputs: _sk_force | $(_sk_dir)
	$$(if $$(_sk_tag),)$$(call _sk_update,$$@,$$(call _sk_build_inputs,$(1)))
	@:

$(_sk_dir)/$(1).tar: export _sk_img_flags = $$(IMAGE_BUILD_FLAGS) $$(IMAGE_BUILD_FLAGS_$(1))
$(_sk_dir)/$(1).tar: $(_sk_dir)/$(1).inputs $$(filter-out //%,$$(_sk_files_$(1)))
	$(_sk_Q)$$(_sk_check_builder)set -ef; \
	[ -d $$(_sk_ctx_$(1)) ] || $$(call _sk_fail,$(1): no context directory '$$(_sk_ctx_$(1))' (set IMAGE_CONTEXT_$(1))); \
	[ -f $$(_sk_df_$(1)) ] || $$(call _sk_fail,$(1): no Dockerfile '$$(_sk_df_$(1))' (set IMAGE_DOCKERFILE_$(1))); \
	command -v "$$$$_sk_img_builder_cmd" >/dev/null 2>&1 || \
		$$(call _sk_fail,IMAGE_BUILDER=$$$$_sk_img_builder_show: command not found); \
	echo '  IMAGE $$@ ($$(or $$(_sk_kind_ok),?))'; \
	rm -f $$@.tmp; \
	( set -ef; $$(call _sk_build_cmd,$(1),$$@.tmp) ) || \
		{ rm -f $$@.tmp; $$(call _sk_fail,building $(1) with $$$$_sk_img_builder_show failed); }; \
	mv -f $$@.tmp $$@

$(_sk_dir)/$(1).push-inputs: _sk_force | $(_sk_dir)
	$$(call _sk_update,$$@,$$(call _sk_push_inputs,$(1)))
	@:

# The destination is checked (.push-inputs) before the image is built.
$(_sk_dir)/$(1).ref: $(_sk_dir)/$(1).push-inputs $(_sk_dir)/$(1).tar
	$(_sk_Q)set -ef; ok=0; \
	rm -f $$@ $$@.out $$@.tmp $(_sk_dir)/$(1).digest; \
	trap '[ "$$$$ok" = 1 ] || rm -f $$@.out $$@.tmp $(_sk_dir)/$(1).digest' EXIT; \
	command -v "$$$$_sk_img_push_cmd" >/dev/null 2>&1 || \
		$$(call _sk_fail,ECR_PUSH=$$$$_sk_img_push_show: command not found$$$$_sk_img_push_hint (set ECR_PUSH)); \
	echo '   PUSH $(_sk_dir)/$(1).tar -> $$(call _sk_dest,$(1))'; \
	if ! $$$$_sk_img_push $$$$_sk_img_push_flags --digest-file $(_sk_dir)/$(1).digest $(_sk_dir)/$(1).tar \
		$$(call _sk_dest,$(1)) >$$@.out; then \
		cat $$@.out; $$(call _sk_fail,pushing $(1) with $$$$_sk_img_push_show failed); fi; \
	cat $$@.out; \
	ref=$$$$(grep -E '^[^[:space:]@]+@sha256:[0-9a-f]{64}$$$$' $$@.out | tail -n 1) || true; \
	[ -n "$$$$ref" ] || $$(call _sk_fail,$$$$_sk_img_push_show printed no REGISTRY/REPO@sha256:<hex> line for $(1)); \
	[ -s $(_sk_dir)/$(1).digest ] || $$(call _sk_fail,$$$$_sk_img_push_show wrote no $(_sk_dir)/$(1).digest); \
	printf '%s\n' "$$$$ref" >$$@.tmp; mv -f $$@.tmp $$@; rm -f $$@.out; ok=1

.PHONY: build-image-$(1) push-image-$(1)
build-image-$(1): $(_sk_dir)/$(1).tar
push-image-$(1): $(_sk_dir)/$(1).ref
endef

$(foreach i,$(IMAGES),$(eval $(call _sk_image_rules,$(i))))

build-images: $(IMAGES:%=$(_sk_dir)/%.tar)
	$(if $(IMAGES),@:,@echo 'images.mk: IMAGES is empty: nothing to build' >&2)

push-images: $(IMAGES:%=$(_sk_dir)/%.ref)
	$(if $(IMAGES),@:,@echo 'images.mk: IMAGES is empty: nothing to push' >&2)

images-info:
	@echo 'IMAGE_TAG=$(_sk_tag)'
	@printf 'IMAGE_BUILDER=%s\n' "$$_sk_img_builder_show"
	@printf 'ECR_PUSH=%s\n' "$$_sk_img_pusher_show"
	@$(foreach i,$(IMAGES),echo '$(i): context $(_sk_ctx_$(i)), dockerfile $(_sk_df_$(i)), \
archive $(_sk_dir)/$(i).tar -> $(call _sk_dest,$(i))';)

clean-images:
	rm -rf $(_sk_dir)

$(_sk_dir):
	@mkdir -p $@

_sk_force:

else
# A bad name or path: every target stops, naming it.
build-images push-images images-info clean-images:
	$(error images.mk: $(_sk_images_bad))
build-image-% push-image-%:
	$(error images.mk: $(_sk_images_bad))
endif

# Including this file does not change the Makefile's default goal.
.DEFAULT_GOAL := $(_sk_saved_goal)
endif
