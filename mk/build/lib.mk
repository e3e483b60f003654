# The shared library: one object per module, sorted.
LIB_OBJS += lib/api.o
LIB_OBJS += lib/buf.o
LIB_OBJS += lib/cache.o
LIB_OBJS += lib/client.o
LIB_OBJS += lib/config.o
LIB_OBJS += lib/creds.o
LIB_OBJS += lib/creds_container.o
LIB_OBJS += lib/creds_env.o
LIB_OBJS += lib/creds_imds.o
LIB_OBJS += lib/creds_process.o
LIB_OBJS += lib/creds_profile.o
LIB_OBJS += lib/creds_sso.o
LIB_OBJS += lib/creds_webid.o
LIB_OBJS += lib/deploy.o
LIB_OBJS += lib/ecr.o
LIB_OBJS += lib/ecs.o
LIB_OBJS += lib/elbv2.o
LIB_OBJS += lib/endpoints.o
LIB_OBJS += lib/err.o
LIB_OBJS += lib/explain.o
LIB_OBJS += lib/hdr.o
LIB_OBJS += lib/http.o
LIB_OBJS += lib/image.o
LIB_OBJS += lib/image_docker.o
LIB_OBJS += lib/image_oci.o
LIB_OBJS += lib/json.o
LIB_OBJS += lib/jsonw.o
LIB_OBJS += lib/layer_cache.o
LIB_OBJS += lib/logs.o
LIB_OBJS += lib/mem.o
LIB_OBJS += lib/pace.o
LIB_OBJS += lib/proc.o
LIB_OBJS += lib/rds.o
LIB_OBJS += lib/redact.o
LIB_OBJS += lib/ref.o
LIB_OBJS += lib/registry.o
LIB_OBJS += lib/retry.o
LIB_OBJS += lib/sensitive.o
LIB_OBJS += lib/service.o
LIB_OBJS += lib/sigv4.o
LIB_OBJS += lib/tar.o
LIB_OBJS += lib/text.o
LIB_OBJS += lib/uri.o
LIB_OBJS += lib/xml.o
LIB_OBJS += lib/yamljv.o

LIB := lib/libshipkit.a
lib/%.o: lib/%.c .build-flags
	$(QUIET_CC)$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(LIB): $(LIB_OBJS)
	$(QUIET_AR)$(RM) $@ && $(AR) rcs $@ $^
-include $(LIB_OBJS:.o=.d)

# make gen-endpoints: write lib/endpoints.c again from the partition and endpoint-rule data of the
# botocore on this machine (mk/build/gen-endpoints says what it reads); commit the result. A new
# region or partition is one regeneration.
.PHONY: gen-endpoints
gen-endpoints:
	mk/build/gen-endpoints > lib/endpoints.c.new
	clang-format -i lib/endpoints.c.new
	mv lib/endpoints.c.new lib/endpoints.c
