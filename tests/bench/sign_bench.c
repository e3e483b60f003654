/*
 * sign_bench.c - SigV4 signatures per second of the library (sk_sigv4_sign).
 *
 *   tests/bench/sign_bench [N]
 *
 * Signs the same SSM DescribeParameters request N times (default 200000) at a fixed time and
 * prints one line: "N SECONDS SIGNATURES_PER_SECOND SIGNATURE". The signature lets the caller
 * check the result against botocore for the same request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws/creds.h"
#include "core/err.h"
#include "core/hdr.h"
#include "aws/sigv4.h"

static double now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    char akid[] = "AKIDEXAMPLE";
    char secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    static const char body[] = "{}";
    struct sk_creds creds = { 0 };
    struct sk_headers headers = SK_HEADERS_INIT;
    struct sk_sigv4_params params;
    struct sk_sigv4_req req = { 0 };
    struct sk_err err = { 0 };
    char sig[65] = "";
    long n = 200000;
    double t0, t1;
    time_t when;
    int rc = 1;

    if (argc > 1) {
        char *end;
        n = strtol(argv[1], &end, 10);
        if (*end != '\0' || n < 1 || n > 100000000) {
            fprintf(stderr, "usage: sign_bench [N]\n");
            return 2;
        }
    }
    if (sk_parse_amz_date("20150830T123600Z", &when) != 0) {
        fprintf(stderr, "sign_bench: cannot parse the fixed date\n");
        return 70;
    }

    creds.access_key_id = akid;
    creds.secret_access_key = secret;
    sk_headers_add(&headers, "Host", "ssm.us-east-1.amazonaws.com");
    sk_headers_add(&headers, "Content-Type", "application/x-amz-json-1.1");
    sk_headers_add(&headers, "X-Amz-Target", "AmazonSSM.DescribeParameters");
    req.method = "POST";
    req.path = "/";
    req.query = NULL;
    req.headers = &headers;
    req.body = body;
    req.body_len = strlen(body);
    sk_sigv4_params_init(&params, "ssm", "us-east-1", when);

    t0 = now_seconds();
    for (long i = 0; i < n; i++) {
        struct sk_sigv4_result r;

        sk_sigv4_result_init(&r);
        if (sk_sigv4_sign(&req, &params, &creds, &r, &err) != 0) {
            fprintf(stderr, "sign_bench: %s\n", err.msg);
            sk_sigv4_result_release(&r);
            goto out;
        }
        if (i == 0) {
            memcpy(sig, r.signature, sizeof(sig));
        }
        sk_sigv4_result_release(&r);
    }
    t1 = now_seconds();
    printf("%ld %.6f %.0f %s\n", n, t1 - t0, (double)n / (t1 - t0), sig);
    rc = 0;
out:
    sk_headers_release(&headers);
    return rc;
}
