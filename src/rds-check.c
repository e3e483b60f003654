/*
 * rds-check - is this RDS PostgreSQL instance healthy, safe, and can we log in? From the RDS API:
 * status, engine, encryption, backups, public access, deletion protection, Multi-AZ and pending
 * maintenance. With --from-service or --from-sg, the network path from there: one VPC, the security
 * groups both ways and the network ACLs (lib/svc/netpath.h). Then, step by step and timed, what a
 * client goes through: DNS, TCP, TLS as --sslmode demands, login, and SELECT version(), each failure
 * named (refused, certificate, authentication).
 *
 * The password comes from Secrets Manager or a file, lives in secret buffers, goes to libpq as a
 * keyword (never in a conninfo string, never on argv) and is cut out of anything libpq says.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "aws/api.h"
#include "aws/client.h"
#include "aws/config.h"
#include "core/json.h"
#include "core/mem.h"
#include "core/text.h"
#include "svc/netpath.h"
#include "svc/rds.h"
#include "tool.h"

static const char usage_text[] =
    "usage: rds-check DB_INSTANCE_ID [--secret NAME|ARN | --user USER (--password-file FILE | --iam)]\n"
    "                 [--database NAME]\n"
    "                 [--sslmode disable|require|verify-ca|verify-full] [--sslrootcert FILE] [--hostaddr IP]\n"
    "                 [--from-service CLUSTER/SERVICE | --from-sg SG[,SG...]]\n"
    "                 [--connect-timeout DURATION] [--min-backup-days N] [OPTIONS]\n";

static const char help_text[] =
    "\n"
    "Check an RDS PostgreSQL instance: its settings from the RDS API, then DNS, TCP, TLS, login and\n"
    "SELECT version(), one timed line each. Exit 0 when no check fails, 1 when one does.\n"
    "\n"
    "  DB_INSTANCE_ID             the DB instance identifier (or ARN)\n"
    "  --secret NAME|ARN          log in with the Secrets Manager secret {\"username\",\"password\"}\n"
    "  --user USER                log in as USER, with the password read from --password-file\n"
    "  --password-file FILE       the password (- for stdin; one trailing newline is dropped)\n"
    "  --iam                      log in as USER with an IAM authentication token (rds-db:connect),\n"
    "                             made from the tool's credentials as the SDKs make it\n"
    "  --database NAME            database to log in to (default: the secret's dbname, the\n"
    "                             instance's DBName, else postgres)\n"
    "  --sslmode MODE             disable, require (encrypted, not verified), verify-ca or\n"
    "                             verify-full (default), as PostgreSQL documents them\n"
    "  --sslrootcert FILE         the CAs that sign the database's certificate (the RDS CA bundle);\n"
    "                             without it, verify-ca and verify-full trust --ca-bundle,\n"
    "                             AWS_CA_BUNDLE or the profile's ca_bundle\n"
    "  --hostaddr IP              connect to IP instead of resolving the endpoint; verify-full\n"
    "                             still checks the certificate against the endpoint name\n"
    "  --from-service CLUSTER/SERVICE\n"
    "                             also check the network path from the service's tasks: one VPC,\n"
    "                             the security groups both ways, the network ACLs of both subnets\n"
    "  --from-sg SG[,SG...]       the same from these security groups (no subnets: no ACL check)\n"
    "  --connect-timeout DURATION each network step's time limit (default 5s)\n"
    "  --min-backup-days N        fail when fewer days of backups are kept (default 7)\n"
    "\n";

#define DEFAULT_CONNECT_TIMEOUT 5
#define DEFAULT_MIN_BACKUP_DAYS 7
#define MAX_PASSWORD_FILE 4096
#define MAX_ADDRS 8

enum {
    OPT_CONNECT_TIMEOUT = OPT_TOOL_BASE,
    OPT_DATABASE,
    OPT_FROM_SERVICE,
    OPT_FROM_SG,
    OPT_HOSTADDR,
    OPT_IAM,
    OPT_MIN_BACKUP_DAYS,
    OPT_PASSWORD_FILE,
    OPT_SECRET,
    OPT_SSLMODE,
    OPT_SSLROOTCERT,
    OPT_USER
};

enum result { R_PASS, R_WARN, R_FAIL, R_INFO, R_SKIP };
static const char *const result_names[] = { "PASS", "WARN", "FAIL", "INFO", "SKIP" };

static const char *const sslmodes[] = { "disable", "require", "verify-ca", "verify-full", NULL };

static const char version_query[] = "SELECT version()";

struct opts {
    struct common_opts c;
    const char *id;
    const char *secret, *user, *password_file, *database, *sslmode, *sslrootcert, *hostaddr;
    const char *from_service, *from_sg;
    long connect_timeout; /* seconds */
    long min_backup_days;
    int iam; /* --iam: the password is an IAM authentication token */
};

/* Everything one run gathers. */
struct run {
    const struct opts *o;
    jv checks;
    int nfail, nwarn;
    struct sk_buf failed; /* "tls, login" */
    /* From DescribeDBInstances. */
    char *address, *engine, *status, *dbname;
    long port;
    /* Login: from --secret or --user/--password-file. */
    char *user, *secret_dbname;
    struct sk_buf password; /* secret */
    int have_creds;
    const struct sk_secrets *secrets; /* the client's: the password among them (lib/core/redact.h) */
    const char *ca_bundle;            /* the client's (sk_client_ca_bundle), NULL: the system's */
    /* The address TCP reached: what libpq connects to. */
    char addr[INET6_ADDRSTRLEN];
    const char *blocked; /* why the next connection steps are skipped, or NULL */
};

static void parse_args(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        COMMON_LONGOPTS,
        { "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
        { "database", required_argument, NULL, OPT_DATABASE },
        { "from-service", required_argument, NULL, OPT_FROM_SERVICE },
        { "from-sg", required_argument, NULL, OPT_FROM_SG },
        { "hostaddr", required_argument, NULL, OPT_HOSTADDR },
        { "iam", no_argument, NULL, OPT_IAM },
        { "min-backup-days", required_argument, NULL, OPT_MIN_BACKUP_DAYS },
        { "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
        { "secret", required_argument, NULL, OPT_SECRET },
        { "sslmode", required_argument, NULL, OPT_SSLMODE },
        { "sslrootcert", required_argument, NULL, OPT_SSLROOTCERT },
        { "user", required_argument, NULL, OPT_USER },
        { NULL, 0, NULL, 0 },
    };
    static char help[sizeof(usage_text) + sizeof(help_text)];
    unsigned char a[sizeof(struct in6_addr)];
    int opt, i;

    snprintf(help, sizeof(help), "%s%s", usage_text, help_text);
    o->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
    o->min_backup_days = DEFAULT_MIN_BACKUP_DAYS;
    o->sslmode = "verify-full";
    opterr = 0;
    tool_exact_longopts(argc, argv, ":" COMMON_SHORTOPTS, longopts);
    while ((opt = getopt_long(argc, argv, ":" COMMON_SHORTOPTS, longopts, NULL)) != -1) {
        if (tool_common_opt(&o->c, opt, optarg, help))
            continue;
        switch (opt) {
        case OPT_CONNECT_TIMEOUT:
            if (tool_parse_duration(optarg, &o->connect_timeout) < 0 || o->connect_timeout > 3600)
                tool_usage("--connect-timeout needs a duration such as 5s, 30s, 2m (at most 1h), not '%s'", optarg);
            break;
        case OPT_DATABASE: o->database = optarg; break;
        case OPT_FROM_SERVICE: o->from_service = optarg; break;
        case OPT_FROM_SG: o->from_sg = optarg; break;
        case OPT_HOSTADDR: o->hostaddr = optarg; break;
        case OPT_IAM: o->iam = 1; break;
        case OPT_MIN_BACKUP_DAYS:
            if (tool_parse_long(optarg, 0, 35, &o->min_backup_days) < 0)
                tool_usage("--min-backup-days needs a number of days from 0 to 35, not '%s'", optarg);
            break;
        case OPT_PASSWORD_FILE: o->password_file = optarg; break;
        case OPT_SECRET: o->secret = optarg; break;
        case OPT_SSLMODE: o->sslmode = optarg; break;
        case OPT_SSLROOTCERT: o->sslrootcert = optarg; break;
        case OPT_USER: o->user = optarg; break;
        default: tool_bad_option(argv, opt);
        }
    }
    if (optind < argc)
        o->id = argv[optind++];
    if (optind < argc)
        tool_usage("unexpected argument '%s' (one DB_INSTANCE_ID)", argv[optind]);
    if (!o->id || !o->id[0])
        tool_usage("missing DB_INSTANCE_ID");
    for (i = 0; sslmodes[i] && strcmp(sslmodes[i], o->sslmode) != 0; i++)
        ;
    if (!sslmodes[i])
        tool_usage("--sslmode must be disable, require, verify-ca or verify-full, not '%s'", o->sslmode);
    if (o->sslrootcert && (!o->sslrootcert[0] || access(o->sslrootcert, R_OK) != 0))
        tool_usage("--sslrootcert '%s': %s", o->sslrootcert, o->sslrootcert[0] ? strerror(errno) : "needs a file");
    if (o->sslrootcert && strcmp(o->sslmode, "disable") == 0)
        tool_usage("--sslrootcert has nothing to verify with --sslmode disable");
    if (o->secret && (o->user || o->password_file))
        tool_usage("give --secret, or --user with --password-file, not both");
    if (o->secret && !o->secret[0])
        tool_usage("--secret needs a secret name or ARN");
    if (o->iam && (o->secret || o->password_file))
        tool_usage("--iam logs in with a token: not with --secret or --password-file");
    if (o->iam && !o->user)
        tool_usage("--iam needs --user (the database user granted rds_iam)");
    if (o->iam && strcmp(o->sslmode, "disable") == 0)
        tool_usage("--iam needs TLS (RDS takes IAM authentication over SSL only): not with --sslmode disable");
    if (!o->iam && (o->user != NULL) != (o->password_file != NULL))
        tool_usage("--user and --password-file go together");
    if (o->user && !o->user[0])
        tool_usage("--user needs a user name");
    if (o->database && !o->database[0])
        tool_usage("--database needs a database name");
    if (o->from_service && o->from_sg)
        tool_usage("give --from-service or --from-sg, not both");
    if (o->from_service) {
        const char *slash = strchr(o->from_service, '/');
        if (!slash || slash == o->from_service || !slash[1] || strchr(slash + 1, '/'))
            tool_usage("--from-service needs CLUSTER/SERVICE, not '%s'", o->from_service);
    }
    if (o->from_sg) {
        const char *p = o->from_sg;
        size_t len;
        for (;;) {
            len = strcspn(p, ",");
            if (len < 4 || strncmp(p, "sg-", 3) != 0 || strspn(p + 3, "0123456789abcdef") != len - 3)
                tool_usage("--from-sg needs security group ids (sg-...), comma-separated, not '%s'", o->from_sg);
            if (!p[len])
                break;
            p += len + 1;
        }
    }
    if (o->hostaddr && inet_pton(AF_INET, o->hostaddr, a) != 1 && inet_pton(AF_INET6, o->hostaddr, a) != 1)
        tool_usage("--hostaddr needs an IPv4 or IPv6 address, not '%s'", o->hostaddr);
}

/* ---- checks -------------------------------------------------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static long since_ms(double start)
{
    double d = now_ms() - start;
    return d < 0 ? 0 : (long)(d + 0.5);
}

static void debug(const struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void debug(const struct run *r, const char *fmt, ...)
{
    struct sk_buf b = SK_BUF_INIT;
    va_list ap;

    if (!r->o->c.debug)
        return;
    va_start(ap, fmt);
    sk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    tool_line(stderr, "%s: debug: * %s", progname, b.p); /* details quote the server */
    sk_buf_release(&b);
}

static void add_check(struct run *r, const char *name, enum result res, long ms, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add_check(struct run *r, const char *name, enum result res, long ms, const char *fmt, ...)
{
    struct sk_buf detail = SK_BUF_INIT;
    jv c = jv_object();
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&detail, fmt, ap);
    va_end(ap);
    c = jv_object_set(c, jv_string("check"), jv_string(name));
    c = jv_object_set(c, jv_string("result"), jv_string(result_names[res]));
    c = jv_object_set(c, jv_string("detail"), jv_string(detail.p));
    c = jv_object_set(c, jv_string("ms"), jv_number((double)ms));
    r->checks = jv_array_append(r->checks, c);
    if (res == R_FAIL) {
        sk_buf_addf(&r->failed, "%s%s", r->nfail ? ", " : "", name);
        r->nfail++;
    } else if (res == R_WARN) {
        r->nwarn++;
    }
    debug(r, "%s %s: %s (%ld ms)", result_names[res], name, detail.p, ms);
    sk_buf_release(&detail);
}

/* The checks on the DescribeDBInstances answer; ms is the call's latency (on the status line). */
static void check_instance(struct run *r, const struct sk_rds_instance *db, long ms)
{
    const char *status = db->status, *engine = db->engine, *version = db->engine_version, *kms = db->kms_key_id;
    const char *standby = db->secondary_az;
    long days = db->backup_retention;

    r->status = xstrdup(status ? status : "unknown");
    r->engine = xstrdup_or_null(engine);
    r->dbname = xstrdup_or_null(db->db_name);
    r->address = xstrdup_or_null(db->address);
    r->port = db->port;

    if (status && strcmp(status, "available") == 0)
        add_check(r, "status", R_PASS, ms, "available");
    else
        add_check(r, "status", R_FAIL, ms, "%s, not available", r->status);

    if (engine && strcmp(engine, "postgres") == 0)
        add_check(r, "engine", R_PASS, 0, "postgres%s%s", version ? " " : "", version ? version : "");
    else
        add_check(r, "engine", R_FAIL, 0, "%s%s%s, not postgres", engine ? engine : "unknown", version ? " " : "",
                  version ? version : "");

    if (db->storage_encrypted == SK_RDS_UNSET)
        add_check(r, "encryption", R_WARN, 0, "storage encryption not reported (no StorageEncrypted)");
    else if (db->storage_encrypted)
        add_check(r, "encryption", R_PASS, 0, "storage encrypted%s%s", kms ? " with " : "", kms ? kms : "");
    else
        add_check(r, "encryption", R_FAIL, 0,
                  "storage not encrypted (encryption can only be set at creation: "
                  "restore an encrypted snapshot copy)");

    if (days == SK_RDS_UNSET)
        add_check(r, "backups", R_WARN, 0, "backup retention not reported (no BackupRetentionPeriod)");
    else if (days == 0)
        add_check(r, "backups", r->o->min_backup_days > 0 ? R_FAIL : R_WARN, 0,
                  "automated backups disabled (retention 0 days, at least %ld wanted)", r->o->min_backup_days);
    else if (days >= r->o->min_backup_days)
        add_check(r, "backups", R_PASS, 0, "kept %ld days (at least %ld)", days, r->o->min_backup_days);
    else
        add_check(r, "backups", R_FAIL, 0, "kept %ld day%s, fewer than %ld", days, days == 1 ? "" : "s",
                  r->o->min_backup_days);

    if (db->publicly_accessible == SK_RDS_UNSET)
        add_check(r, "public-access", R_WARN, 0, "not reported (no PubliclyAccessible)");
    else if (db->publicly_accessible)
        add_check(r, "public-access", R_FAIL, 0, "publicly accessible: the endpoint resolves to a public address");
    else
        add_check(r, "public-access", R_PASS, 0, "not publicly accessible");

    if (db->deletion_protection == 1)
        add_check(r, "deletion-protection", R_PASS, 0, "on");
    else
        add_check(r, "deletion-protection", R_WARN, 0, "off: the instance can be deleted by one API call");

    if (db->multi_az == 1)
        add_check(r, "multi-az", R_PASS, 0, "on%s%s", standby ? ", standby in " : "", standby ? standby : "");
    else
        add_check(r, "multi-az", R_WARN, 0, "off: no standby in another availability zone");
}

/* One pending action for the maintenance line: "system-update (auto-applied after DATE: DESC)". */
static void describe_action(const struct sk_rds_action *a, struct sk_buf *b)
{
    const char *action = a->action, *desc = a->description, *forced = a->forced_apply;
    const char *autoa = a->auto_applied_after, *optin = a->opt_in_status;
    const char *sep = " (";

    sk_buf_adds(b, action ? action : "unknown action");
    if (forced) {
        sk_buf_addf(b, "%sforced on %s", sep, forced);
        sep = ", ";
    } else if (autoa) {
        sk_buf_addf(b, "%sauto-applied after %s", sep, autoa);
        sep = ", ";
    }
    if (optin && strcmp(optin, "next-maintenance") == 0) {
        sk_buf_addf(b, "%snext maintenance window", sep);
        sep = ", ";
    }
    if (desc) {
        sk_buf_addf(b, "%s%s", sep, desc);
        sep = ", ";
    }
    if (sep[0] == ',')
        sk_buf_addch(b, ')');
}

/* Pending maintenance never fails the check: it is news (INFO when none, WARN when some), and a
 * refused or failed call is a WARN saying it was not checked. */
static void check_maintenance(struct run *r, struct sk_client *c, const char *id)
{
    struct sk_err e;
    struct sk_buf b = SK_BUF_INIT;
    double start = now_ms();
    struct sk_rds_actions acts;
    size_t i, n;

    sk_err_clear(&e);
    if (sk_rds_actions_get(c, id, &acts, &e) < 0) {
        add_check(r, "maintenance", R_WARN, since_ms(start), "not checked: DescribePendingMaintenanceActions: %s",
                  e.msg[0] ? e.msg : sk_errkind_name(e.kind));
        return;
    }
    n = acts.n;
    for (i = 0; i < n; i++) {
        sk_buf_adds(&b, i ? "; " : "");
        describe_action(&acts.v[i], &b);
    }
    sk_rds_actions_release(&acts);
    if (n == 0)
        add_check(r, "maintenance", R_INFO, since_ms(start), "no pending maintenance");
    else
        add_check(r, "maintenance", R_WARN, since_ms(start), "%zu pending: %s", n, b.p);
    sk_buf_release(&b);
}

/* ---- credentials --------------------------------------------------------------------------- */

static int password_from_file(struct run *r, struct sk_err *err)
{
    if (tool_read_input(r->o->password_file, &r->password, MAX_PASSWORD_FILE, err) < 0)
        return sk_err_prefix(err, "--password-file");
    tool_chomp(&r->password);
    if (r->password.len == 0 || memchr(r->password.p, '\0', r->password.len))
        return sk_errf(err, SK_E_USAGE, "--password-file '%s' holds no password (or a NUL byte)", r->o->password_file);
    r->user = xstrdup(r->o->user);
    r->have_creds = 1;
    return 0;
}

/* --iam: the password is an IAM authentication token for --user, made for the endpoint's name and
 * port (what RDS checks, whatever --hostaddr connects to), valid 15 minutes; it is redacted like a
 * password. Without an endpoint there is nothing to make it for (the connection steps are skipped). */
static int password_from_iam(struct run *r, struct sk_client *c, struct sk_err *err)
{
    const struct sk_creds *creds;

    if (!r->address || r->port <= 0)
        return 0;
    if (sk_client_creds(c, &creds, err) < 0)
        return -1;
    if (sk_rds_auth_token(r->address, r->port, r->o->user, c->region, creds, time(NULL), &r->password, err) < 0)
        return sk_err_prefix(err, "--iam");
    r->user = xstrdup(r->o->user);
    r->have_creds = 1;
    return 0;
}

/* GetSecretValue: SecretString {"username","password"[,"dbname"]}, as RDS stores them. The
 * response and the parsed document are wiped before they are freed. */
static int password_from_secret(struct run *r, struct sk_client *c, struct sk_err *err)
{
    const char *name = r->o->secret, *s, *user, *pw, *dbname;
    jv in = jv_object_set(jv_object(), jv_string("SecretId"), jv_string(name)), res, doc = jv_invalid();
    struct sk_err perr;
    int rc = -1;

    if (sk_client_json(c, &sk_svc_secretsmanager, "GetSecretValue", in, SK_API_SECRET_RESP, &res, err) < 0) {
        if (strcmp(err->aws_code, "ResourceNotFoundException") == 0)
            sk_errf(err, SK_E_AWS, "secret '%s' not found (ResourceNotFoundException)", name);
        else
            sk_err_prefix(err, "reading secret '%s'", name);
        return -1;
    }
    s = sk_json_str(res, "SecretString");
    if (!s) {
        sk_errf(err, SK_E_PARSE, "secret '%s' has no SecretString (a binary secret?)", name);
        goto out;
    }
    sk_err_clear(&perr);
    /* The parser's message could quote the value: never pass it on. */
    if (sk_json_parse(s, strlen(s), &doc, &perr) < 0 || jv_get_kind(doc) != JV_KIND_OBJECT) {
        sk_errf(err, SK_E_PARSE, "secret '%s' is not a JSON object with \"username\" and \"password\"", name);
        goto out;
    }
    user = sk_json_str(doc, "username");
    pw = sk_json_str(doc, "password");
    dbname = sk_json_str(doc, "dbname");
    if (!user || !user[0] || !pw || !pw[0]) {
        sk_errf(err, SK_E_PARSE, "secret '%s' has no \"%s\" string (RDS stores {\"username\",\"password\"})", name,
                !user || !user[0] ? "username" : "password");
        goto out;
    }
    r->user = xstrdup(user);
    sk_buf_adds(&r->password, pw);
    r->secret_dbname = dbname && dbname[0] ? xstrdup(dbname) : NULL;
    r->have_creds = 1;
    rc = 0;
out:
    if (jv_is_valid(doc))
        sk_json_wipe_strings(doc);
    jv_free(doc);
    sk_json_wipe_strings(res);
    jv_free(res);
    return rc;
}

/* ---- DNS and TCP ---------------------------------------------------------------------------- */

static void addr_string(const struct sockaddr *sa, char *out, size_t n)
{
    const void *a = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                              : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;

    if (!inet_ntop(sa->sa_family, a, out, (socklen_t)n))
        snprintf(out, n, "?");
}

/* "10.0.0.5:5432" or "[2001:db8::5]:5432". */
static void hostport(const char *addr, long port, char *out, size_t n)
{
    snprintf(out, n, strchr(addr, ':') ? "[%s]:%ld" : "%s:%ld", addr, port);
}

/* Resolve (or take --hostaddr) into addrs: the dns check. Returns how many addresses. */
static int check_dns(struct run *r, char addrs[][INET6_ADDRSTRLEN])
{
    struct addrinfo hints, *res = NULL, *ai;
    struct sk_buf list = SK_BUF_INIT;
    char port[16];
    double start = now_ms();
    int rc, n = 0, i;

    if (r->o->hostaddr) {
        snprintf(addrs[0], INET6_ADDRSTRLEN, "%s", r->o->hostaddr);
        add_check(r, "dns", R_SKIP, 0, "not resolved: --hostaddr %s given", r->o->hostaddr);
        return 1;
    }
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%ld", r->port);
    rc = getaddrinfo(r->address, port, &hints, &res);
    if (rc != 0) {
        add_check(r, "dns", R_FAIL, since_ms(start), "cannot resolve %s: %s%s", r->address,
                  rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc),
                  rc == EAI_NONAME ? " (from outside its VPC a private endpoint does not resolve; try --hostaddr)"
                                   : "");
        return 0;
    }
    for (ai = res; ai && n < MAX_ADDRS; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
        addr_string(ai->ai_addr, addrs[n], INET6_ADDRSTRLEN);
        for (i = 0; i < n && strcmp(addrs[i], addrs[n]) != 0; i++)
            ;
        if (i < n)
            continue; /* the same address for another protocol */
        sk_buf_addf(&list, "%s%s", n ? ", " : "", addrs[n]);
        n++;
    }
    freeaddrinfo(res);
    if (n == 0)
        add_check(r, "dns", R_FAIL, since_ms(start), "%s has no IPv4 or IPv6 address", r->address);
    else
        add_check(r, "dns", R_PASS, since_ms(start), "%s -> %s", r->address, list.p);
    sk_buf_release(&list);
    return n;
}

/* A plain non-blocking connect to addr:port within timeout_ms: 0, or an errno (ETIMEDOUT). */
static int tcp_connect(const char *addr, long port, long timeout_ms)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
    socklen_t len;
    struct pollfd pfd;
    int fd, rc, soerr = 0;
    socklen_t sl = sizeof(soerr);

    memset(&ss, 0, sizeof(ss));
    if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
        s4->sin_family = AF_INET;
        s4->sin_port = htons((unsigned short)port);
        len = sizeof(*s4);
    } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((unsigned short)port);
        len = sizeof(*s6);
    } else {
        return EINVAL;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
        close(fd);
        return 0;
    }
    if (errno != EINPROGRESS) {
        rc = errno;
        close(fd);
        return rc;
    }
    pfd.fd = fd;
    pfd.events = POLLOUT;
    do {
        rc = poll(&pfd, 1, (int)timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc == 0) {
        close(fd);
        return ETIMEDOUT;
    }
    if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        soerr = errno;
    close(fd);
    return soerr;
}

/* The tcp check: the first of addrs that accepts a connection becomes r->addr. */
static void check_tcp(struct run *r, char addrs[][INET6_ADDRSTRLEN], int n)
{
    char hp[INET6_ADDRSTRLEN + 16];
    double start = now_ms();
    long left;
    int i, e = ETIMEDOUT;

    for (i = 0; i < n; i++) {
        left = r->o->connect_timeout * 1000 - since_ms(start);
        if (left <= 0)
            break;
        hostport(addrs[i], r->port, hp, sizeof(hp));
        e = tcp_connect(addrs[i], r->port, left);
        debug(r, "tcp connect %s: %s", hp, e ? strerror(e) : "connected");
        if (e == 0) {
            memcpy(r->addr, addrs[i], sizeof(r->addr));
            add_check(r, "tcp", R_PASS, since_ms(start), "connected to %s", hp);
            return;
        }
    }
    hostport(addrs[i < n ? i : n - 1], r->port, hp, sizeof(hp));
    if (e == ECONNREFUSED)
        add_check(r, "tcp", R_FAIL, since_ms(start),
                  "connection refused by %s: nothing listens there (instance stopped or wrong port?)", hp);
    else if (e == ETIMEDOUT)
        add_check(r, "tcp", R_FAIL, since_ms(start),
                  "no answer from %s within %lds (a security group, network ACL or route dropping it?)", hp,
                  r->o->connect_timeout);
    else
        add_check(r, "tcp", R_FAIL, since_ms(start), "cannot connect to %s: %s", hp, strerror(e));
    r->blocked = "tcp failed";
}

/* ---- TLS, login and query through libpq ----------------------------------------------------- */

static void no_notices(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* What libpq said, fit for a check line: every secret of the run cut out (the password, whatever
 * libpq or the server echoes), the 'connection to server at "x" (ip), port n failed: ' preamble
 * and severity words dropped, lines joined, control characters gone. The rest is the server's
 * text, escaped when printed (tool_emit, tool_line). */
static void pq_message(const char *msg, const struct sk_secrets *secrets, struct sk_buf *out)
{
    struct sk_buf m = SK_BUF_INIT;
    const char *p, *hit;
    size_t i;
    int space = 0;

    sk_buf_init_secret(&m);
    sk_buf_adds(&m, msg);
    sk_secrets_scrub(secrets, &m);
    p = m.p;
    if (strncmp(p, "connection to server ", 21) == 0 && (hit = strstr(p, " failed: ")))
        p = hit + 9;
    for (; *p; p++) {
        if (strncmp(p, "FATAL:  ", 8) == 0 || strncmp(p, "ERROR:  ", 8) == 0) {
            p += 7;
            continue;
        }
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            space = out->len > 0;
            continue;
        }
        if (*p == ' ' && space)
            continue;
        if (space) {
            sk_buf_adds(out, "; ");
            space = 0;
        }
        sk_buf_addch(out, *p);
    }
    while (out->len && (out->p[out->len - 1] == ' ' || out->p[out->len - 1] == ';'))
        sk_buf_truncate(out, out->len - 1);
    for (i = 0; i < out->len; i++)
        if (out->p[i] == '\t')
            out->p[i] = ' ';
    sk_buf_release(&m);
}

/* Wait until libpq's socket is ready for reading or writing, or the deadline: 1, 0 (timeout), -1. */
static int pq_wait(PGconn *conn, int for_write, double deadline)
{
    struct pollfd pfd;
    int rc;

    pfd.fd = PQsocket(conn);
    if (pfd.fd < 0)
        return -1;
    pfd.events = for_write ? POLLOUT : POLLIN;
    do {
        double left = deadline - now_ms();
        if (left <= 0)
            return 0;
        rc = poll(&pfd, 1, (int)(left + 1));
    } while (rc < 0 && errno == EINTR);
    return rc < 0 ? -1 : rc > 0;
}

/* The CAs libpq verifies the database's certificate with (its sslrootcert): --sslrootcert; else,
 * for verify-ca and verify-full, what the API calls trust (--ca-bundle, AWS_CA_BUNDLE, the profile's
 * ca_bundle). Never the API's CAs for require: libpq verifies the chain whenever it is given a root
 * certificate file, which would make require verify-ca ("if a root CA file exists, the behavior of
 * sslmode=require will be the same as that of verify-ca",
 * https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-CONNECT-SSLMODE). NULL: libpq's
 * own default (PGSSLROOTCERT, then ~/.postgresql/root.crt). */
static const char *root_cert(const struct run *r)
{
    if (r->o->sslrootcert)
        return r->o->sslrootcert;
    return strncmp(r->o->sslmode, "verify-", 7) == 0 ? r->ca_bundle : NULL;
}

/* "TLSv1.3 TLS_AES_256_GCM_SHA384, certificate valid for NAME" and the like. */
static void tls_detail(const struct run *r, PGconn *conn, struct sk_buf *b)
{
    const char *proto = PQsslAttribute(conn, "protocol"), *cipher = PQsslAttribute(conn, "cipher");
    const char *mode = r->o->sslmode;

    sk_buf_addf(b, "%s %s, ", proto ? proto : "TLS", cipher ? cipher : "");
    if (strcmp(mode, "verify-full") == 0)
        sk_buf_addf(b, "certificate verified for %s", r->address);
    else if (strcmp(mode, "verify-ca") == 0)
        sk_buf_adds(b, "certificate chain verified (verify-ca: its name is not checked)");
    else if (r->o->sslrootcert)
        sk_buf_adds(b, "certificate chain verified (require with --sslrootcert verifies as verify-ca does)");
    else
        sk_buf_adds(b, "certificate not verified (--sslmode require)");
}

/* A hint for a failed TLS step, appended to b. */
static void tls_hint(const struct run *r, const char *msg, struct sk_buf *b)
{
    const char *ca = root_cert(r);

    if (strncmp(r->o->sslmode, "verify-", 7) == 0 && !ca && strstr(msg, "root certificate"))
        sk_buf_adds(b, " (give the RDS CA bundle with --sslrootcert)");
    else if (strstr(msg, "does not match host name"))
        sk_buf_adds(b, " (the certificate is not for this endpoint name)");
    else if (strstr(msg, "certificate verify failed"))
        sk_buf_addf(b, " (the certificate is not signed by a CA in %s)", ca ? ca : "the default root.crt");
}

static void skip_rest(struct run *r, const char *from, const char *why)
{
    static const char *const steps[] = { "tls", "login", "query", NULL };
    int i, on = 0;

    for (i = 0; steps[i]; i++) {
        on = on || strcmp(steps[i], from) == 0;
        if (on)
            add_check(r, steps[i], R_SKIP, 0, "%s", why);
    }
}

/* TLS and login, timed apart on one libpq connection, then SELECT version(). Without credentials
 * the connection is dropped once TLS is up, before the startup packet. */
/* libpq's connection parameters, NULL-terminated; port and ms_s are their buffers. */
static void conn_params(struct run *r, const char *dbname, const char *ca, char port[16], char ms_s[16],
                        const char *keys[16], const char *vals[16])
{
    int k = 0;

    snprintf(port, 16, "%ld", r->port);
    snprintf(ms_s, 16, "%ld", r->o->connect_timeout);
    /* host = the endpoint name (verify-full checks the certificate against it), hostaddr = the
     * address the tcp check reached (no second lookup). */
    keys[k] = "host", vals[k++] = r->address;
    keys[k] = "hostaddr", vals[k++] = r->addr;
    keys[k] = "port", vals[k++] = port;
    keys[k] = "dbname", vals[k++] = dbname;
    keys[k] = "user", vals[k++] = r->have_creds ? r->user : "rds-check";
    keys[k] = "sslmode", vals[k++] = r->o->sslmode;
    keys[k] = "gssencmode", vals[k++] = "disable";
    keys[k] = "connect_timeout", vals[k++] = ms_s;
    keys[k] = "application_name", vals[k++] = "rds-check";
    if (ca)
        keys[k] = "sslrootcert", vals[k++] = ca;
    debug(r, "libpq: host=%s hostaddr=%s port=%s dbname=%s user=%s password=%s sslmode=%s sslrootcert=%s", r->address,
          r->addr, port, dbname, r->have_creds ? r->user : "rds-check", r->have_creds ? "(redacted)" : "(none)",
          r->o->sslmode, ca ? ca : "(libpq default)");
    if (r->have_creds)
        keys[k] = "password", vals[k++] = r->password.p;
    keys[k] = NULL, vals[k] = NULL;
}

/* SELECT version() on the connection, with the connection's time limit. */
static void check_query(struct run *r, PGconn *conn, long timeout_ms)
{
    struct sk_buf msg = SK_BUF_INIT;
    double start, deadline;
    PGresult *res;
    int w;

    start = now_ms();
    deadline = start + (double)timeout_ms;
    if (!PQsendQuery(conn, version_query)) {
        pq_message(PQerrorMessage(conn), r->secrets, &msg);
        add_check(r, "query", R_FAIL, since_ms(start), "%s: %s", version_query, msg.p);
        goto done;
    }
    while (PQisBusy(conn)) {
        w = pq_wait(conn, 0, deadline);
        if (w <= 0 || !PQconsumeInput(conn)) {
            if (w == 0)
                sk_buf_addf(&msg, "no answer within %lds", r->o->connect_timeout);
            else
                pq_message(PQerrorMessage(conn), r->secrets, &msg);
            add_check(r, "query", R_FAIL, since_ms(start), "%s: %s", version_query, msg.p);
            goto done;
        }
    }
    res = PQgetResult(conn);
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 1) {
        add_check(r, "query", R_PASS, since_ms(start), "%s", PQgetvalue(res, 0, 0));
    } else {
        pq_message(PQresultErrorMessage(res), r->secrets, &msg);
        add_check(r, "query", R_FAIL, since_ms(start), "%s: %s", version_query, msg.len ? msg.p : "no answer");
    }
    PQclear(res);
    while ((res = PQgetResult(conn)))
        PQclear(res);
done:
    sk_buf_release(&msg);
}

static void check_postgres(struct run *r)
{
    const char *keys[16], *vals[16];
    char port[16], ms_s[16];
    const char *dbname = r->o->database     ? r->o->database
                         : r->secret_dbname ? r->secret_dbname
                         : r->dbname        ? r->dbname
                                            : "postgres";
    const char *ca = root_cert(r);
    int tls = strcmp(r->o->sslmode, "disable") != 0, seen_ssl = 0, tls_done = !tls, w;
    double start = now_ms(), deadline, t_tls = 0;
    long timeout_ms = r->o->connect_timeout * 1000;
    struct sk_buf msg = SK_BUF_INIT, detail = SK_BUF_INIT;
    PostgresPollingStatusType ps = PGRES_POLLING_WRITING;
    PGconn *conn = NULL;
    int timed_out = 0;

    if (!tls && !r->have_creds) {
        add_check(r, "tls", R_SKIP, 0, "--sslmode disable: no TLS");
        skip_rest(r, "login", "no credentials given (--secret, or --user with --password-file)");
        return;
    }
    conn_params(r, dbname, ca, port, ms_s, keys, vals);

    deadline = start + (double)timeout_ms;
    conn = PQconnectStartParams(keys, vals, 0);
    if (!conn) {
        add_check(r, tls ? "tls" : "login", R_FAIL, since_ms(start), "libpq could not allocate a connection");
        skip_rest(r, tls ? "login" : "query", "skipped: no connection");
        return;
    }
    PQsetNoticeProcessor(conn, no_notices, NULL);
    if (PQstatus(conn) == CONNECTION_BAD)
        ps = PGRES_POLLING_FAILED;
    while (ps != PGRES_POLLING_OK && ps != PGRES_POLLING_FAILED) {
        ConnStatusType st;
        w = pq_wait(conn, ps == PGRES_POLLING_WRITING, deadline);
        if (w <= 0) {
            timed_out = w == 0;
            break;
        }
        ps = PQconnectPoll(conn);
        st = PQstatus(conn);
        if (st == CONNECTION_SSL_STARTUP)
            seen_ssl = 1;
        if (!tls_done && seen_ssl && st != CONNECTION_SSL_STARTUP && st != CONNECTION_BAD && PQsslInUse(conn)) {
            tls_done = 1;
            t_tls = now_ms();
            tls_detail(r, conn, &detail);
            add_check(r, "tls", R_PASS, (long)(t_tls - start + 0.5), "%s", detail.p);
            if (!r->have_creds)
                break;
            /* Login gets a fresh time budget. */
            deadline = t_tls + (double)timeout_ms;
        }
    }
    if (!tls) {
        add_check(r, "tls", R_SKIP, 0, "--sslmode disable: no TLS");
        t_tls = start;
    }
    if (!r->have_creds && tls_done) {
        skip_rest(r, "login", "no credentials given (--secret, or --user with --password-file)");
        goto out;
    }
    if (ps != PGRES_POLLING_OK) {
        if (timed_out)
            sk_buf_addf(&msg, "no answer within %lds", r->o->connect_timeout);
        else
            pq_message(PQerrorMessage(conn), r->secrets, &msg);
        if (!tls_done) {
            tls_hint(r, msg.p, &msg);
            add_check(r, "tls", R_FAIL, since_ms(start), "%s", msg.p);
            skip_rest(r, "login", "skipped: tls failed");
        } else {
            /* "password authentication failed for user ..." reads as it is; anything else
             * (no pg_hba.conf entry, no such database) is still the login step. */
            add_check(r, "login", R_FAIL, since_ms(t_tls), "%s%s",
                      strstr(msg.p, "authentication failed") ? "authentication failed: " : "", msg.p);
            skip_rest(r, "query", "skipped: login failed");
        }
        goto out;
    }
    add_check(r, "login", R_PASS, since_ms(t_tls), "logged in as %s to database %s%s", r->user, dbname,
              r->o->iam ? " with an IAM authentication token" : "");

    check_query(r, conn, timeout_ms);
out:
    PQfinish(conn); /* libpq wipes its copy of the password */
    sk_buf_release(&msg);
    sk_buf_release(&detail);
}

static void check_connection(struct run *r)
{
    char addrs[MAX_ADDRS][INET6_ADDRSTRLEN];
    int n;

    if (!r->address || r->port <= 0 || r->port > 65535) {
        add_check(r, "dns", R_SKIP, 0, "no endpoint yet (status %s)", r->status);
        add_check(r, "tcp", R_SKIP, 0, "no endpoint yet (status %s)", r->status);
        skip_rest(r, "tls", "no endpoint yet");
        return;
    }
    n = check_dns(r, addrs);
    if (n == 0) {
        add_check(r, "tcp", R_SKIP, 0, "skipped: dns failed");
        skip_rest(r, "tls", "skipped: dns failed");
        return;
    }
    check_tcp(r, addrs, n);
    if (r->blocked) {
        skip_rest(r, "tls", "skipped: tcp failed");
        return;
    }
    if (!r->engine || strcmp(r->engine, "postgres") != 0) {
        skip_rest(r, "tls", "skipped: not a postgres instance");
        return;
    }
    check_postgres(r);
}

/* ---- output -------------------------------------------------------------------------------- */

static void print_text(jv result, FILE *out)
{
    jv checks = sk_json_get(result, "checks");
    int i, n = jv_get_kind(checks) == JV_KIND_ARRAY ? jv_array_length(jv_copy(checks)) : 0;

    for (i = 0; i < n; i++) {
        jv c = jv_array_get(jv_copy(checks), i);
        double ms = 0;
        struct sk_buf detail = SK_BUF_INIT;
        sk_json_num(c, "ms", &ms);
        /* Details quote answers (RDS, EC2, PostgreSQL): one printable line each (--output json keeps
         * them raw). Escaping twice changes nothing (lib/core/text.h). */
        sk_text_escapes(&detail, sk_json_str(c, "detail") ? sk_json_str(c, "detail") : "");
        fprintf(out, "%s  %s  %s (%.0f ms)\n", sk_json_str(c, "result"), sk_json_str(c, "check"), detail.p, ms);
        sk_buf_release(&detail);
        jv_free(c);
    }
    jv_free(checks);
}

static void run_release(struct run *r)
{
    jv_free(r->checks);
    sk_buf_release(&r->failed);
    free(r->address);
    free(r->engine);
    free(r->status);
    free(r->dbname);
    free(r->user);
    free(r->secret_dbname);
    sk_buf_release(&r->password);
}

/* The network section (--from-service, --from-sg): one check per line of lib/svc/netpath.h; *net
 * gets {"from", "securityGroups", "subnets"} for the JSON output. */
static int check_network(struct run *r, struct sk_client *c, const struct sk_rds_instance *db, jv *net,
                         struct sk_err *err)
{
    static const enum result map[] = {
        [SK_NET_PASS] = R_PASS, [SK_NET_WARN] = R_WARN, [SK_NET_FAIL] = R_FAIL, [SK_NET_SKIP] = R_SKIP
    };
    const struct opts *o = r->o;
    struct sk_netsrc src;
    struct sk_net_checks checks;
    double start = now_ms();
    jv sgs, subnets;
    size_t i;

    if (o->from_service) {
        char *cluster = xstrndup(o->from_service, strcspn(o->from_service, "/"));
        int rc = sk_netsrc_service(c, cluster, strchr(o->from_service, '/') + 1, &src, err);
        free(cluster);
        if (rc < 0)
            return -1;
    } else {
        sk_netsrc_sgs(o->from_sg, &src);
    }
    if (sk_netpath_run(c, db, &src, &checks, err) < 0) {
        sk_netsrc_release(&src);
        return -1;
    }
    for (i = 0; i < checks.n; i++)
        add_check(r, checks.v[i].name, map[checks.v[i].result], i == 0 ? since_ms(start) : 0, "%s", checks.v[i].detail);
    sgs = jv_array();
    subnets = jv_array();
    for (i = 0; i < src.nsgs; i++)
        sgs = jv_array_append(sgs, jv_string(src.sgs[i]));
    for (i = 0; i < src.nsubnets; i++)
        subnets = jv_array_append(subnets, jv_string(src.subnets[i]));
    *net = jv_object_set(jv_object(), jv_string("from"), jv_string(src.name));
    *net = jv_object_set(*net, jv_string("securityGroups"), sgs);
    *net = jv_object_set(*net, jv_string("subnets"), subnets);
    sk_net_checks_release(&checks);
    sk_netsrc_release(&src);
    return 0;
}

static int run(const struct opts *o, struct sk_err *err)
{
    struct sk_client c;
    struct run r;
    struct sk_rds_instance db;
    jv result, net = jv_null();
    double start;
    int have_client = 0, rc = -1;

    memset(&r, 0, sizeof(r));
    memset(&db, 0, sizeof(db));
    r.o = o;
    r.checks = jv_array();
    sk_buf_init(&r.failed);
    sk_buf_init_secret(&r.password);
    /* Local input first: a bad --password-file fails before any call. */
    if (o->password_file && password_from_file(&r, err) < 0)
        goto out;
    if (tool_client_init(&c, &o->c, err) < 0)
        goto out;
    have_client = 1;
    r.ca_bundle = c.ca_bundle;
    start = now_ms();
    if (sk_rds_instance_get(&c, o->id, &db, err) < 0)
        goto out;
    if (o->secret && password_from_secret(&r, &c, err) < 0)
        goto out;
    if (r.have_creds) /* out of every trace line, AWS error and libpq message from now on */
        sk_client_add_secret(&c, r.password.p, r.password.len);
    r.secrets = sk_http_secrets(c.http);
    check_instance(&r, &db, since_ms(start));
    if (o->iam && password_from_iam(&r, &c, err) < 0)
        goto out;
    if (o->iam && r.have_creds)
        sk_client_add_secret(&c, r.password.p, r.password.len);
    check_maintenance(&r, &c, o->id);
    if ((o->from_service || o->from_sg) && check_network(&r, &c, &db, &net, err) < 0)
        goto out;
    check_connection(&r);

    result = jv_object_set(jv_object(), jv_string("instance"), jv_string(o->id));
    if (r.address) {
        char hp[512];
        hostport(r.address, r.port, hp, sizeof(hp));
        result = jv_object_set(result, jv_string("endpoint"), jv_string(hp));
    } else {
        result = jv_object_set(result, jv_string("endpoint"), jv_null());
    }
    if (jv_get_kind(net) == JV_KIND_OBJECT)
        result = jv_object_set(result, jv_string("network"), jv_copy(net));
    result = jv_object_set(result, jv_string("checks"), jv_copy(r.checks));
    result = jv_object_set(result, jv_string("verdict"), jv_string(r.nfail ? "FAIL" : r.nwarn ? "WARN" : "PASS"));
    if (tool_emit(&o->c, result, print_text, err) < 0)
        goto out;
    if (r.nfail) {
        /* The reason for exit status 1, -q or not. */
        fprintf(stderr, "%s: DB instance '%s' failed %d check%s: %s\n", progname, o->id, r.nfail,
                r.nfail == 1 ? "" : "s", r.failed.p);
        rc = EXIT_NO;
    } else {
        rc = EXIT_OK;
    }
out:
    jv_free(net);
    sk_rds_instance_release(&db);
    run_release(&r);
    if (have_client)
        sk_client_release(&c);
    return tool_outcome(&o->c, rc, err);
}

int main(int argc, char **argv)
{
    struct opts o;
    struct sk_err err;
    int code;

    memset(&o, 0, sizeof(o));
    sk_err_clear(&err);
    tool_init("rds-check");
    parse_args(argc, argv, &o);
    code = run(&o, &err);
    return tool_finish(code);
}
