/*
 * config_fuzz.c - libFuzzer target for the shared config/credentials INI parser.
 *
 * The first byte picks the file kind; the rest is parsed twice into the same collection (the second
 * parse exercises merging), then every section and property is looked up again.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk_ini ini = { 0 };
    struct sk_err err;
    enum sk_ini_source src;
    const char *text;
    size_t i, j, len;

    if (size < 1)
        return 0;
    src = (data[0] & 1) ? SK_INI_CREDENTIALS_FILE : SK_INI_CONFIG_FILE;
    text = (const char *)data + 1;
    len = size - 1;

    if (sk_ini_parse(&ini, text, len, src, "fuzz", &err) == 0) {
        /* Parsing the same text again must succeed and merge into what is there. */
        if (sk_ini_parse(&ini, text, len, src, "fuzz", &err) != 0)
            __builtin_trap();
        for (i = 0; i < ini.nsections; i++) {
            const struct sk_ini_section *s = &ini.sections[i];
            if (sk_ini_section(&ini, s->kind, s->name) == NULL)
                __builtin_trap();
            for (j = 0; j < s->nprops; j++)
                if (sk_ini_prop(s, s->props[j].key) == NULL)
                    __builtin_trap();
        }
    } else if (ini.nsections != 0 || strlen(err.msg) == 0) {
        /* A failed parse leaves the collection untouched and says why. */
        __builtin_trap();
    }
    sk_ini_release(&ini);
    return 0;
}
