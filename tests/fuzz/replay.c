/*
 * replay.c - run a fuzz target's LLVMFuzzerTestOneInput on each file named on the command line,
 * without libFuzzer: the regression half of fuzzing, built with the normal compiler and flags
 * (ASan+UBSan under SANITIZE=) and run by tests/fuzz/run-replay.
 *
 *   tests/fuzz/xml_replay FILE...     exit 0 when every input ran; a crash aborts as it would in
 *                                    the fuzzer, with the sanitizer's report
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    struct sk_buf b = SK_BUF_INIT;
    char tmp[65536];
    size_t n;
    int i, rc = 0;

    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f) {
            perror(argv[i]);
            rc = 1;
            continue;
        }
        sk_buf_reset(&b);
        while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
            sk_buf_add(&b, tmp, n);
        if (ferror(f)) {
            perror(argv[i]);
            rc = 1;
        }
        fclose(f);
        /* a copy of exactly the input's size, so ASan sees reads past its end as libFuzzer would */
        {
            uint8_t *copy = malloc(b.len ? b.len : 1);
            if (!copy)
                abort();
            if (b.len)
                memcpy(copy, b.p, b.len);
            LLVMFuzzerTestOneInput(copy, b.len);
            free(copy);
        }
    }
    sk_buf_release(&b);
    return rc;
}
