# The shared library: one object per module, sorted.
LIB_OBJS += lib/aws/api.o
LIB_OBJS += lib/core/buf.o
LIB_OBJS += lib/core/cache.o
LIB_OBJS += lib/aws/client.o
LIB_OBJS += lib/aws/config.o
LIB_OBJS += lib/aws/creds.o
LIB_OBJS += lib/aws/creds_container.o
LIB_OBJS += lib/aws/creds_env.o
LIB_OBJS += lib/aws/creds_imds.o
LIB_OBJS += lib/aws/creds_process.o
LIB_OBJS += lib/aws/creds_profile.o
LIB_OBJS += lib/aws/creds_sso.o
LIB_OBJS += lib/aws/creds_webid.o
LIB_OBJS += lib/svc/deploy.o
LIB_OBJS += lib/svc/ec2.o
LIB_OBJS += lib/svc/ecr.o
LIB_OBJS += lib/svc/ecs.o
LIB_OBJS += lib/svc/elbv2.o
LIB_OBJS += lib/aws/endpoints.o
LIB_OBJS += lib/core/err.o
LIB_OBJS += lib/svc/explain.o
LIB_OBJS += lib/svc/fleet.o
LIB_OBJS += lib/core/hdr.o
LIB_OBJS += lib/aws/http.o
LIB_OBJS += lib/oci/image.o
LIB_OBJS += lib/oci/image_docker.o
LIB_OBJS += lib/oci/image_oci.o
LIB_OBJS += lib/core/json.o
LIB_OBJS += lib/core/jsonw.o
LIB_OBJS += lib/oci/layer_cache.o
LIB_OBJS += lib/svc/logs.o
LIB_OBJS += lib/svc/netpath.o
LIB_OBJS += lib/core/mem.o
LIB_OBJS += lib/aws/adaptive.o
LIB_OBJS += lib/aws/pace.o
LIB_OBJS += lib/core/proc.o
LIB_OBJS += lib/svc/rds.o
LIB_OBJS += lib/svc/runtask.o
LIB_OBJS += lib/svc/sdeploy.o
LIB_OBJS += lib/core/redact.o
LIB_OBJS += lib/svc/preflight.o
LIB_OBJS += lib/oci/ref.o
LIB_OBJS += lib/oci/registry.o
LIB_OBJS += lib/aws/retry.o
LIB_OBJS += lib/core/sensitive.o
LIB_OBJS += lib/aws/service.o
LIB_OBJS += lib/aws/sigv4.o
LIB_OBJS += lib/oci/tar.o
LIB_OBJS += lib/core/text.o
LIB_OBJS += lib/core/uri.o
LIB_OBJS += lib/core/xml.o
LIB_OBJS += lib/core/yamljv.o

LIB := lib/libshipkit.a
lib/%.o: lib/%.c .build-flags
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(LIB): $(LIB_OBJS)
	$(QUIET_AR)$(RM) $@ && $(AR) rcs $@ $^
-include $(LIB_OBJS:.o=.d)

# make gen-endpoints: write lib/aws/endpoints.c again from the partition and endpoint-rule data of the
# botocore on this machine (mk/build/gen-endpoints says what it reads); commit the result. A new
# region or partition is one regeneration.
.PHONY: gen-endpoints
gen-endpoints:
	mk/build/gen-endpoints > lib/aws/endpoints.c.new
	clang-format -i lib/aws/endpoints.c.new
	mv lib/aws/endpoints.c.new lib/aws/endpoints.c
