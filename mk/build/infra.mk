# Offline checks of infra/*.tf (tests/infra/run, TAP): HCL2 parse, AWS provider schema snapshot,
# security rules with waivers, rule fixtures, terraform fmt when terraform is on PATH.
# Needs the pinned npm packages: npm ci --prefix tests/infra (done here, and by mk/build/prereqs
# test, when missing).
.PHONY: test-infra infra-schema

tests/infra/node_modules/.package-lock.json: tests/infra/package-lock.json
	@cd tests/infra && npm ci --no-audit --no-fund --loglevel=error

test-infra: tests/infra/node_modules/.package-lock.json
	@tests/infra/run

# Regenerate tests/infra/schema/aws-provider.json (downloads @cdktn/provider-aws, ~45 MB).
infra-schema:
	@tests/infra/make-schema
