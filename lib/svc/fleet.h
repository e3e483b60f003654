/*
 * fleet.h - deploying several services of one cluster from one process (ecs-roll's fleet mode,
 * src/ecs-roll.1 "FLEETS"): the plan (which services, with which images), one poller that answers
 * every service's wait with one DescribeServices per 10 services, and the fleet's exit code. The
 * tool owns the flow (a deploy per service, printing); these own the rules.
 */
#ifndef SK_FLEET_H
#define SK_FLEET_H

#include <stddef.h>

#include <jv.h>

#include "aws/client.h"
#include "core/err.h"
#include "svc/ecs.h"

#define SK_FLEET_MAX 1000      /* services in one plan */
#define SK_FLEET_MAX_IMAGES 32 /* --image values of one service */

/* One service of a plan. */
struct sk_fleet_item {
    char *service;
    char *images[SK_FLEET_MAX_IMAGES]; /* "[CONTAINER=]IMAGE", as --image takes them */
    int nimages;
    long desired; /* desired count, -1: unchanged */
};

struct sk_fleet_plan {
    char *cluster; /* the plan file's cluster, NULL when it names none */
    struct sk_fleet_item *v;
    size_t n;
};

/* Is s a [CONTAINER=]IMAGE value --image takes (not empty, no blanks, no empty image)? */
int sk_fleet_image_ok(const char *s);

/* Add a service (no images yet, desired -1): SK_E_USAGE for an empty name, one the plan has
 * already, or more than SK_FLEET_MAX. Returns the item (borrowed from p) or NULL. */
struct sk_fleet_item *sk_fleet_plan_add(struct sk_fleet_plan *p, const char *service, struct sk_err *err);
/* Add an image to one service: SK_E_USAGE when not [CONTAINER=]IMAGE, or more than
 * SK_FLEET_MAX_IMAGES, or a container named twice. */
int sk_fleet_item_image(struct sk_fleet_item *it, const char *image, struct sk_err *err);

/* A plan file (YAML or JSON), origin naming it in messages:
 *
 *   cluster: ml                 # optional
 *   services:
 *     - service: model-a
 *       images: {app: REPO:TAG} # or a list of "[CONTAINER=]IMAGE", or image: IMAGE
 *       desired_count: 2        # optional
 *
 * Unknown keys, a service twice, a bad image or count: SK_E_USAGE naming the entry. The plan is
 * added to *p (which may hold services already: a name in both is refused). */
int sk_fleet_plan_parse(const char *text, size_t len, const char *origin, struct sk_fleet_plan *p, struct sk_err *err);
void sk_fleet_plan_release(struct sk_fleet_plan *p);

/* The fleet's exit code from two services' codes: the higher one (0 ok < 1 no < 2 usage < 3 config
 * < 4 AWS < 5 network < 6 timeout < 70 internal). */
int sk_fleet_worst(int a, int b);

/* ---- the poller ------------------------------------------------------------------------------ */

/* One thread that answers the waits of many services: a round every interval seconds gathers the
 * services waited for and describes them 10 at a time (DescribeServices' limit), with a client of
 * its own. A round that fails fails the waits it was to answer (with its error); a service ECS
 * reports missing fails with ServiceNotFoundException, as sk_ecs_describe_service. */
struct sk_fleet_poll;

/* c is the poller's own client (borrowed; used only by the poller's thread from now on). */
int sk_fleet_poll_start(struct sk_fleet_poll **out, struct sk_client *c, const char *cluster, double interval_s,
                        struct sk_err *err);
/* Wait for the next round's answer on service (called from any thread): 0 and *svc (released by
 * the caller, also on failure), -1 (err set). */
int sk_fleet_poll_get(struct sk_fleet_poll *p, const char *service, struct sk_ecs_service *svc, struct sk_err *err);
/* DescribeServices calls the poller made, and the waits they answered. */
long sk_fleet_poll_calls(struct sk_fleet_poll *p, long *answers);
/* Stop the thread (after the round in flight) and free p; NULL is allowed. */
void sk_fleet_poll_stop(struct sk_fleet_poll *p);

#endif
