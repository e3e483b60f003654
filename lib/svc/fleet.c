#include "svc/fleet.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "aws/pace.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/yamljv.h"

/* ---- the plan ------------------------------------------------------------------------------- */

int sk_fleet_image_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    return n > 0 && !strpbrk(s, " \t\r\n") && s[n - 1] != '=' && s[0] != '=';
}

struct sk_fleet_item *sk_fleet_plan_add(struct sk_fleet_plan *p, const char *service, struct sk_err *err)
{
    struct sk_fleet_item *it;
    size_t i;

    if (!service || !*service || strpbrk(service, " \t\r\n")) {
        sk_errf(err, SK_E_USAGE, "a service name must not be empty nor hold blanks");
        return NULL;
    }
    for (i = 0; i < p->n; i++)
        if (strcmp(p->v[i].service, service) == 0) {
            sk_errf(err, SK_E_USAGE, "service '%s' is named twice", service);
            return NULL;
        }
    if (p->n >= SK_FLEET_MAX) {
        sk_errf(err, SK_E_USAGE, "at most %d services in one run", SK_FLEET_MAX);
        return NULL;
    }
    p->v = xrealloc(p->v, (p->n + 1) * sizeof(*p->v));
    it = &p->v[p->n++];
    memset(it, 0, sizeof(*it));
    it->service = xstrdup(service);
    it->desired = -1;
    return it;
}

/* The container an image value names ("" for a bare IMAGE), into out. */
static void image_container(const char *v, char *out, size_t size)
{
    const char *eq = strchr(v, '='), *slash = strchr(v, '/'), *colon = strchr(v, ':');
    size_t n;

    /* CONTAINER=IMAGE: '=' before any '/' or ':' of the image (an image reference holds no '=') */
    if (!eq || (slash && slash < eq) || (colon && colon < eq)) {
        out[0] = 0;
        return;
    }
    n = (size_t)(eq - v) < size - 1 ? (size_t)(eq - v) : size - 1;
    memcpy(out, v, n);
    out[n] = 0;
}

int sk_fleet_item_image(struct sk_fleet_item *it, const char *image, struct sk_err *err)
{
    char mine[256], other[256];
    int i;

    if (!sk_fleet_image_ok(image))
        return sk_errf(err, SK_E_USAGE, "service '%s': an image is [CONTAINER=]IMAGE, not '%s'", it->service,
                       image ? image : "");
    if (it->nimages >= SK_FLEET_MAX_IMAGES)
        return sk_errf(err, SK_E_USAGE, "service '%s': at most %d images", it->service, SK_FLEET_MAX_IMAGES);
    image_container(image, mine, sizeof(mine));
    for (i = 0; i < it->nimages; i++) {
        image_container(it->images[i], other, sizeof(other));
        if (strcmp(mine, other) == 0)
            return sk_errf(err, SK_E_USAGE, "service '%s': %s%s%s has two images", it->service,
                           mine[0] ? "container '" : "", mine[0] ? mine : "the container", mine[0] ? "'" : "");
    }
    it->images[it->nimages++] = xstrdup(image);
    return 0;
}

static int only_keys(jv obj, const char *const *keys, const char *where, struct sk_err *err)
{
    int it = jv_object_iter(obj), rc = 0;

    for (; rc == 0 && jv_object_iter_valid(obj, it); it = jv_object_iter_next(obj, it)) {
        jv k = jv_object_iter_key(obj, it);
        const char *const *w;
        for (w = keys; *w && strcmp(*w, jv_string_value(k)) != 0; w++)
            ;
        if (!*w)
            rc = sk_errf(err, SK_E_USAGE, "%s: unknown key '%s'", where, jv_string_value(k));
        jv_free(k);
    }
    jv_free(obj);
    return rc;
}

static int item_images(struct sk_fleet_item *it, jv e, const char *where, struct sk_err *err)
{
    jv one = sk_json_get(e, "image"), many = sk_json_get(e, "images");
    int rc = 0, i, n;

    if (jv_is_valid(one) && jv_is_valid(many)) {
        rc = sk_errf(err, SK_E_USAGE, "%s: image and images exclude each other", where);
    } else if (jv_is_valid(one)) {
        rc = jv_get_kind(one) == JV_KIND_STRING ? sk_fleet_item_image(it, jv_string_value(one), err)
                                                : sk_errf(err, SK_E_USAGE, "%s: image must be a string", where);
    } else if (jv_get_kind(many) == JV_KIND_ARRAY) {
        n = jv_array_length(jv_copy(many));
        for (i = 0; rc == 0 && i < n; i++) {
            jv v = jv_array_get(jv_copy(many), i);
            rc = jv_get_kind(v) == JV_KIND_STRING
                     ? sk_fleet_item_image(it, jv_string_value(v), err)
                     : sk_errf(err, SK_E_USAGE, "%s: images[%d] must be a string", where, i);
            jv_free(v);
        }
    } else if (jv_get_kind(many) == JV_KIND_OBJECT) {
        int k = jv_object_iter(many);
        for (; rc == 0 && jv_object_iter_valid(many, k); k = jv_object_iter_next(many, k)) {
            jv name = jv_object_iter_key(many, k), v = jv_object_iter_value(many, k);
            char buf[1024];
            if (jv_get_kind(v) != JV_KIND_STRING || !*jv_string_value(name) || strchr(jv_string_value(name), '=')) {
                rc = sk_errf(err, SK_E_USAGE, "%s: images maps a container name to an image string", where);
            } else if ((size_t)snprintf(buf, sizeof(buf), "%s=%s", jv_string_value(name), jv_string_value(v)) >=
                       sizeof(buf)) {
                rc = sk_errf(err, SK_E_USAGE, "%s: image of container '%s' is too long", where, jv_string_value(name));
            } else {
                rc = sk_fleet_item_image(it, buf, err);
            }
            jv_free(name);
            jv_free(v);
        }
    } else if (jv_is_valid(many) && jv_get_kind(many) != JV_KIND_NULL) {
        rc = sk_errf(err, SK_E_USAGE, "%s: images must be a map of container to image, or a list", where);
    }
    jv_free(one);
    jv_free(many);
    return rc;
}

static int item_desired(struct sk_fleet_item *it, jv e, const char *where, struct sk_err *err)
{
    jv d = sk_json_get(e, "desired_count");
    double v;
    int rc = 0;

    if (!jv_is_valid(d))
        d = sk_json_get(e, "desiredCount");
    if (jv_is_valid(d) && jv_get_kind(d) != JV_KIND_NULL) {
        v = jv_get_kind(d) == JV_KIND_NUMBER ? jv_number_value(d) : -1;
        if (!(v >= 0 && v <= 100000 && v == (double)(long)v))
            rc = sk_errf(err, SK_E_USAGE, "%s: desired_count must be a whole number from 0 to 100000", where);
        else
            it->desired = (long)v;
    }
    jv_free(d);
    return rc;
}

int sk_fleet_plan_parse(const char *text, size_t len, const char *origin, struct sk_fleet_plan *p, struct sk_err *err)
{
    static const char *const top[] = { "cluster", "services", NULL };
    static const char *const entry[] = { "service", "image", "images", "desired_count", "desiredCount", NULL };
    jv doc, cluster = jv_invalid(), list = jv_invalid();
    int rc = -1, i, n;

    if (sk_yaml_to_jv(text, len, origin, &doc, err) < 0)
        return -1;
    if (jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_USAGE, "%s: a plan is a map with 'services' (a list)", origin);
        goto out;
    }
    if (only_keys(jv_copy(doc), top, origin, err) < 0)
        goto out;
    cluster = sk_json_get(doc, "cluster");
    if (jv_is_valid(cluster)) {
        if (jv_get_kind(cluster) != JV_KIND_STRING || !*jv_string_value(cluster)) {
            sk_errf(err, SK_E_USAGE, "%s: cluster must be a name", origin);
            goto out;
        }
        free(p->cluster);
        p->cluster = xstrdup(jv_string_value(cluster));
    }
    list = sk_json_get(doc, "services");
    if (jv_get_kind(list) != JV_KIND_ARRAY || (n = jv_array_length(jv_copy(list))) == 0) {
        sk_errf(err, SK_E_USAGE, "%s: 'services' must be a list of at least one service", origin);
        goto out;
    }
    for (i = 0; i < n; i++) {
        jv e = jv_array_get(jv_copy(list), i), name;
        struct sk_fleet_item *it = NULL;
        char where[300];
        int bad;

        snprintf(where, sizeof(where), "%s: services[%d]", origin, i);
        if (jv_get_kind(e) == JV_KIND_STRING) { /* a bare name: the images given on the command line */
            bad = !sk_fleet_plan_add(p, jv_string_value(e), err);
        } else if (jv_get_kind(e) != JV_KIND_OBJECT) {
            bad = sk_errf(err, SK_E_USAGE, "%s: a service is a name or a map", where);
        } else if (only_keys(jv_copy(e), entry, where, err) < 0) {
            bad = 1;
        } else {
            name = sk_json_get(e, "service");
            bad = jv_get_kind(name) != JV_KIND_STRING
                      ? sk_errf(err, SK_E_USAGE, "%s: 'service' (the service's name) is missing", where)
                      : !(it = sk_fleet_plan_add(p, jv_string_value(name), err));
            jv_free(name);
            bad = bad || item_images(it, e, where, err) < 0 || item_desired(it, e, where, err) < 0;
        }
        jv_free(e);
        if (bad) {
            if (err->kind == SK_E_USAGE && strncmp(err->msg, origin, strlen(origin)) != 0)
                sk_err_prefix(err, "%s", where);
            goto out;
        }
    }
    rc = 0;
out:
    jv_free(doc);
    jv_free(cluster);
    jv_free(list);
    return rc;
}

void sk_fleet_plan_release(struct sk_fleet_plan *p)
{
    size_t i;
    int k;

    for (i = 0; i < p->n; i++) {
        free(p->v[i].service);
        for (k = 0; k < p->v[i].nimages; k++)
            free(p->v[i].images[k]);
    }
    free(p->v);
    free(p->cluster);
    memset(p, 0, sizeof(*p));
}

int sk_fleet_worst(int a, int b)
{
    return a > b ? a : b;
}

/* ---- the poller ------------------------------------------------------------------------------ */

/* One wait for an answer: on the waiter's stack while it waits. */
struct poll_req {
    const char *service;
    int done, rc;
    struct sk_ecs_service svc; /* parsed by the poller: a jv's counts are not for two threads */
    struct sk_err err;
    struct poll_req *next;
};

struct sk_fleet_poll {
    struct sk_client *c;
    char *cluster;
    double interval;
    struct sk_pace pace; /* its clock and its sleep (lib/aws/pace.h) */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, answered;
    struct poll_req *pending;
    int stop;
    long calls, answers;
};

/* Answer every request of *list whose service is among names[0..n) from one DescribeServices, and
 * take it off the list: once done, a request belongs to its waiter again (it lives on its stack). */
static void answer_batch(struct sk_fleet_poll *p, struct poll_req **list, char *const *names, size_t n)
{
    struct sk_err err;
    struct poll_req *q, **link;
    jv found = jv_invalid();
    int rc;
    size_t i;

    sk_err_clear(&err);
    rc = sk_ecs_describe_services(p->c, p->cluster, (const char *const *)names, n, &found, &err);
    pthread_mutex_lock(&p->lock);
    p->calls++;
    for (link = list; (q = *link) != NULL;) {
        for (i = 0; i < n && strcmp(names[i], q->service) != 0; i++)
            ;
        if (i == n) {
            link = &q->next;
            continue;
        }
        *link = q->next;
        p->answers++;
        if (rc < 0) {
            q->rc = -1;
            q->err = err;
        } else {
            jv s = jv_object_get(jv_copy(found), jv_string(q->service));
            if (jv_get_kind(s) == JV_KIND_OBJECT) {
                sk_err_clear(&q->err);
                q->rc = sk_ecs_service_parse(s, &q->svc, &q->err);
                jv_free(s);
            } else {
                jv_free(s);
                q->rc = -1;
                sk_err_clear(&q->err);
                snprintf(q->err.aws_code, sizeof(q->err.aws_code), "ServiceNotFoundException");
                sk_errf(&q->err, SK_E_AWS, "service '%s' not found in cluster '%s'", q->service, p->cluster);
            }
        }
        q->done = 1;
    }
    pthread_cond_broadcast(&p->answered);
    pthread_mutex_unlock(&p->lock);
    jv_free(found);
}

/* One round: the distinct services of list, SK_ECS_DESCRIBE_MAX at a time. The names are copied
 * first: a request answered is gone (its waiter returned). */
static void round_answer(struct sk_fleet_poll *p, struct poll_req *list)
{
    char *names[SK_ECS_DESCRIBE_MAX];
    struct poll_req *q;
    size_t n, i;

    while (list) {
        n = 0;
        for (q = list; q && n < SK_ECS_DESCRIBE_MAX; q = q->next) {
            for (i = 0; i < n && strcmp(names[i], q->service) != 0; i++)
                ;
            if (i == n) /* asked for twice in one round: one answer serves both */
                names[n++] = xstrdup(q->service);
        }
        answer_batch(p, &list, names, n);
        for (i = 0; i < n; i++)
            free(names[i]);
    }
}

static void *poll_main(void *arg)
{
    struct sk_fleet_poll *p = arg;
    double last = 0;

    for (;;) {
        struct poll_req *list;
        double now;

        pthread_mutex_lock(&p->lock);
        while (!p->pending && !p->stop)
            pthread_cond_wait(&p->wake, &p->lock);
        if (!p->pending && p->stop) {
            pthread_mutex_unlock(&p->lock);
            break;
        }
        pthread_mutex_unlock(&p->lock);
        /* a round at most every interval: the waits that come in meanwhile join it */
        now = sk_pace_now();
        if (last > 0 && now < last + p->interval)
            sk_pace_sleep(&p->pace, last + p->interval - now);
        pthread_mutex_lock(&p->lock);
        list = p->pending;
        p->pending = NULL;
        pthread_mutex_unlock(&p->lock);
        last = sk_pace_now();
        round_answer(p, list);
    }
    return NULL;
}

int sk_fleet_poll_start(struct sk_fleet_poll **out, struct sk_client *c, const char *cluster, double interval_s,
                        struct sk_err *err)
{
    struct sk_fleet_poll *p = xcalloc(1, sizeof(*p));
    pthread_attr_t attr;
    int rc;

    p->c = c;
    p->cluster = xstrdup(cluster);
    p->interval = interval_s > 0 ? interval_s : 0;
    sk_pace_start(&p->pace, p->interval, p->interval, 1, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->answered, NULL);
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, (size_t)1 << 20);
    rc = pthread_create(&p->thread, &attr, poll_main, p);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->wake);
        pthread_cond_destroy(&p->answered);
        free(p->cluster);
        free(p);
        *out = NULL;
        return sk_errf(err, SK_E_INTERNAL, "cannot start the poller thread: %s", strerror(rc));
    }
    *out = p;
    return 0;
}

int sk_fleet_poll_get(struct sk_fleet_poll *p, const char *service, struct sk_ecs_service *svc, struct sk_err *err)
{
    struct poll_req q;

    memset(&q, 0, sizeof(q));
    q.service = service;
    pthread_mutex_lock(&p->lock);
    q.next = p->pending;
    p->pending = &q;
    pthread_cond_signal(&p->wake);
    while (!q.done)
        pthread_cond_wait(&p->answered, &p->lock);
    pthread_mutex_unlock(&p->lock);
    *svc = q.svc;
    if (q.rc < 0)
        *err = q.err;
    return q.rc;
}

long sk_fleet_poll_calls(struct sk_fleet_poll *p, long *answers)
{
    long n;

    pthread_mutex_lock(&p->lock);
    n = p->calls;
    if (answers)
        *answers = p->answers;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void sk_fleet_poll_stop(struct sk_fleet_poll *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->answered);
    free(p->cluster);
    free(p);
}
