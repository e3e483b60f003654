/*
 * tar_test.c - lib/oci/tar.c: ustar/GNU/pax names, links, sizes, and broken archives.
 *
 * Archives in the usual formats are written by python3's tarfile; edge cases (base-256 and pax
 * sizes, bad checksums, truncation) are built by hand below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "harness.h"
#include "oci/tar.h"

static char tmpdir[] = "/tmp/sk-tar-test-XXXXXX";

static const char *tpath(const char *name)
{
    static char p[4][512];
    static int k;

    k = (k + 1) % 4;
    snprintf(p[k], sizeof(p[k]), "%s/%s", tmpdir, name);
    return p[k];
}

static void write_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(p, 1, n, f) != n)
        H_FAIL("cannot write %s", path);
    if (f)
        fclose(f);
}

/* ---- hand-made headers ---- */

static void octal(char *f, size_t n, unsigned long long v)
{
    snprintf(f, n, "%0*llo", (int)n - 1, v);
}

static void set_checksum(unsigned char *h)
{
    unsigned sum = 0;
    size_t i;

    memset(h + 148, ' ', 8);
    for (i = 0; i < 512; i++)
        sum += h[i];
    snprintf((char *)h + 148, 8, "%06o", sum);
}

/* Append a ustar header; size_field overrides the octal size when non-NULL (12 bytes). */
static void add_header(struct sk_buf *b, const char *name, char type, unsigned long long size,
                       const unsigned char *size_field)
{
    unsigned char h[512];

    memset(h, 0, sizeof(h));
    snprintf((char *)h, 100, "%s", name);
    octal((char *)h + 100, 8, 0644);
    octal((char *)h + 108, 8, 0);
    octal((char *)h + 116, 8, 0);
    if (size_field)
        memcpy(h + 124, size_field, 12);
    else
        octal((char *)h + 124, 12, size);
    octal((char *)h + 136, 12, 0);
    h[156] = (unsigned char)type;
    memcpy(h + 257,
           "ustar\0"
           "00",
           8);
    set_checksum(h);
    sk_buf_add(b, h, sizeof(h));
}

static void add_data(struct sk_buf *b, const void *p, size_t n)
{
    static const char zero[512];

    sk_buf_add(b, p, n);
    if (n % 512)
        sk_buf_add(b, zero, 512 - n % 512);
}

static void add_end(struct sk_buf *b)
{
    static const char zero[1024];

    sk_buf_add(b, zero, sizeof(zero));
}

static int py(const char *script)
{
    char cmd[8192];

    snprintf(cmd, sizeof(cmd), "cd %s && python3 - <<'EOF'\nimport io, tarfile\n%s\nEOF", tmpdir, script);
    return system(cmd);
}

/* ---- tests ---- */

TEST(normalize)
{
    struct sk_buf b = SK_BUF_INIT;

    sk_tar_normalize("./a//b/./c/../d/", &b);
    ASSERT_STREQ(b.p, "a/b/d");
    sk_tar_normalize("../../x", &b);
    ASSERT_STREQ(b.p, "x");
    sk_tar_normalize("/abs/./", &b);
    ASSERT_STREQ(b.p, "abs");
    sk_tar_normalize("./", &b);
    ASSERT_STREQ(b.p, "");
    sk_buf_release(&b);
}

/* Python's ustar splits long names into prefix + name; links and "./" names. */
TEST(ustar_prefix_and_links)
{
    struct sk_tar t = SK_TAR_INIT;
    struct sk_buf data = SK_BUF_INIT;
    struct sk_err err;
    const struct sk_tar_entry *e;
    char longname[200];

    ASSERT(py("def add(tf, name, data=b'', type=tarfile.REGTYPE, link=''):\n"
              "    ti = tarfile.TarInfo(name); ti.size = len(data); ti.type = type; ti.linkname = link\n"
              "    tf.addfile(ti, io.BytesIO(data) if data else None)\n"
              "with tarfile.open('ustar.tar', 'w', format=tarfile.USTAR_FORMAT) as tf:\n"
              "    add(tf, './dir', type=tarfile.DIRTYPE)\n"
              "    add(tf, './dir/hello.txt', b'hello\\n')\n"
              "    add(tf, 'p' * 90 + '/' + 'q' * 90 + '/file', b'deep')\n"
              "    add(tf, 'dir/sub/link', type=tarfile.SYMTYPE, link='../hello.txt')\n"
              "    add(tf, 'hard', type=tarfile.LNKTYPE, link='dir/hello.txt')\n"
              "    add(tf, 'loop1', type=tarfile.SYMTYPE, link='loop2')\n"
              "    add(tf, 'loop2', type=tarfile.SYMTYPE, link='loop1')\n"
              "    add(tf, 'dangling', type=tarfile.SYMTYPE, link='nowhere')\n") == 0);
    ASSERT_OK(sk_tar_open(&t, tpath("ustar.tar"), &err), &err);
    ASSERT(t.n == 8);
    e = sk_tar_find(&t, "dir");
    ASSERT(e && e->type == SK_TAR_DIR);
    e = sk_tar_find(&t, "./dir/hello.txt");
    ASSERT(e && e->type == SK_TAR_FILE && e->size == 6 && e->offset == 1024);
    if (e) {
        ASSERT_OK(sk_tar_read(&t, e, 100, &data, &err), &err);
        ASSERT_STREQ(data.p, "hello\n");
    }
    memset(longname, 'p', 90);
    longname[90] = '/';
    memset(longname + 91, 'q', 90);
    strcpy(longname + 181, "/file");
    e = sk_tar_resolve(&t, longname, &err);
    ASSERT(e && e->size == 4);
    e = sk_tar_resolve(&t, "dir/sub/link", &err);
    ASSERT(e && !strcmp(e->name, "dir/hello.txt"));
    e = sk_tar_find(&t, "dir/sub/link");
    ASSERT(e && e->type == SK_TAR_SYMLINK && !strcmp(e->link, "../hello.txt"));
    e = sk_tar_resolve(&t, "hard", &err);
    ASSERT(e && !strcmp(e->name, "dir/hello.txt"));
    sk_err_clear(&err);
    ASSERT(!sk_tar_resolve(&t, "loop1", &err) && err.kind == SK_E_USAGE && strstr(err.msg, "too many levels"));
    sk_err_clear(&err);
    ASSERT(!sk_tar_resolve(&t, "dangling", &err) && err.kind == SK_E_USAGE && strstr(err.msg, "nowhere"));
    sk_err_clear(&err);
    ASSERT(!sk_tar_resolve(&t, "absent", &err) && err.kind == SK_E_USAGE && strstr(err.msg, "no 'absent'"));
    sk_err_clear(&err);
    ASSERT(!sk_tar_resolve(&t, "dir", &err) && strstr(err.msg, "not a regular file"));
    e = sk_tar_find(&t, "dir/hello.txt");
    ASSERT_ERR(sk_tar_read(&t, e, 3, &data, &err), &err, SK_E_USAGE);
    sk_tar_release(&t);
    sk_tar_release(&t);
    sk_buf_release(&data);
}

/* GNU 'L' long names and 'K' long link names. */
TEST(gnu_long_names)
{
    struct sk_tar t = SK_TAR_INIT;
    struct sk_buf name = SK_BUF_INIT, data = SK_BUF_INIT;
    struct sk_err err;
    const struct sk_tar_entry *e;

    ASSERT(py("n = 'x' * 150 + '/' + 'y' * 120\n"
              "with tarfile.open('gnu.tar', 'w', format=tarfile.GNU_FORMAT) as tf:\n"
              "    ti = tarfile.TarInfo(n); ti.size = 3; tf.addfile(ti, io.BytesIO(b'abc'))\n"
              "    ti = tarfile.TarInfo('z' * 130); ti.type = tarfile.SYMTYPE; ti.linkname = n; tf.addfile(ti)\n") ==
           0);
    ASSERT_OK(sk_tar_open(&t, tpath("gnu.tar"), &err), &err);
    ASSERT(t.n == 2);
    for (int i = 0; i < 150; i++)
        sk_buf_addch(&name, 'x');
    sk_buf_addch(&name, '/');
    for (int i = 0; i < 120; i++)
        sk_buf_addch(&name, 'y');
    e = sk_tar_find(&t, name.p);
    ASSERT(e && e->size == 3);
    ASSERT(t.n == 2 && t.entries[1].type == SK_TAR_SYMLINK && t.entries[1].link && !strcmp(t.entries[1].link, name.p) &&
           strlen(t.entries[1].name) == 130);
    e = sk_tar_resolve(&t, t.entries[1].name, &err);
    ASSERT(e == &t.entries[0]);
    if (e) {
        ASSERT_OK(sk_tar_read(&t, e, 10, &data, &err), &err);
        ASSERT_STREQ(data.p, "abc");
    }
    sk_tar_release(&t);
    sk_buf_release(&name);
    sk_buf_release(&data);
}

/* pax 'x' path= and linkpath=, and a 'g' global header that is ignored. */
TEST(pax_names)
{
    struct sk_tar t = SK_TAR_INIT;
    struct sk_err err;
    const struct sk_tar_entry *e;

    ASSERT(py("n = 'd/' + 'w' * 250 + '/\\u00e9t\\u00e9'\n"
              "with tarfile.open('pax.tar', 'w', format=tarfile.PAX_FORMAT, pax_headers={'comment': 'g'}) as tf:\n"
              "    ti = tarfile.TarInfo(n); ti.size = 2; tf.addfile(ti, io.BytesIO(b'ok'))\n"
              "    ti = tarfile.TarInfo('l'); ti.type = tarfile.SYMTYPE; ti.linkname = '/' + n; tf.addfile(ti)\n") ==
           0);
    ASSERT_OK(sk_tar_open(&t, tpath("pax.tar"), &err), &err);
    ASSERT(t.n == 2);
    ASSERT(t.n >= 1 && strlen(t.entries[0].name) == 2 + 250 + 1 + 5 && t.entries[0].size == 2);
    e = sk_tar_resolve(&t, "l", &err);
    ASSERT(e == &t.entries[0]);
    sk_tar_release(&t);
}

/* A pax size= overrides the header; a base-256 size field is read; data offsets follow. */
TEST(pax_and_base256_sizes)
{
    struct sk_buf b = SK_BUF_INIT, data = SK_BUF_INIT;
    struct sk_tar t = SK_TAR_INIT;
    struct sk_err err;
    const struct sk_tar_entry *e;
    unsigned char b256[12] = { 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7 };
    const char *rec = "11 size=11\n";

    add_header(&b, "PaxHeaders/a", 'x', strlen(rec), NULL);
    add_data(&b, rec, strlen(rec));
    add_header(&b, "a", '0', 0, NULL); /* size from pax */
    add_data(&b, "hello world", 11);
    add_header(&b, "b", '0', 0, b256);
    add_data(&b, "seven!!", 7);
    add_end(&b);
    write_file(tpath("sizes.tar"), b.p, b.len);
    ASSERT_OK(sk_tar_open(&t, tpath("sizes.tar"), &err), &err);
    ASSERT(t.n == 2);
    e = sk_tar_find(&t, "a");
    ASSERT(e && e->size == 11 && e->offset == 3 * 512);
    if (e) {
        ASSERT_OK(sk_tar_read(&t, e, 100, &data, &err), &err);
        ASSERT_STREQ(data.p, "hello world");
    }
    e = sk_tar_find(&t, "b");
    ASSERT(e && e->size == 7 && e->offset == 5 * 512);
    sk_tar_release(&t);
    sk_buf_release(&b);
    sk_buf_release(&data);
}

static void expect_bad(const char *name, const struct sk_buf *b, const char *want)
{
    struct sk_tar t = SK_TAR_INIT;
    struct sk_err err;

    write_file(tpath(name), b->p, b->len);
    ASSERT_ERR(sk_tar_open(&t, tpath(name), &err), &err, SK_E_USAGE);
    if (!strstr(err.msg, want))
        H_FAIL("%s: message '%s' lacks '%s'", name, err.msg, want);
    if (!strstr(err.msg, tpath(name)))
        H_FAIL("%s: message '%s' lacks the path", name, err.msg);
    ASSERT(t.fd == -1 && t.entries == NULL && t.path == NULL);
}

TEST(broken_archives)
{
    struct sk_buf b = SK_BUF_INIT;
    unsigned char neg[12], huge[12];
    const char *bad_pax = "99 path=x\n";

    /* bad checksum in the second header */
    add_header(&b, "a", '0', 3, NULL);
    add_data(&b, "abc", 3);
    add_header(&b, "b", '0', 0, NULL);
    b.p[512 + 512 + 10] ^= 1;
    add_end(&b);
    expect_bad("badsum.tar", &b, "not a tar file (bad header checksum at byte 1024)");

    /* not a tar at all */
    sk_buf_reset(&b);
    for (int i = 0; i < 100; i++)
        sk_buf_adds(&b, "this is not a tar file\n");
    expect_bad("text.tar", &b, "not a tar file (bad header checksum at byte 0)");

    /* EOF inside the data */
    sk_buf_reset(&b);
    add_header(&b, "a", '0', 2000, NULL);
    add_data(&b, "abc", 3);
    expect_bad("cutdata.tar", &b, "truncated tar");

    /* EOF inside a header */
    sk_buf_reset(&b);
    add_header(&b, "a", '0', 3, NULL);
    add_data(&b, "abc", 3);
    add_header(&b, "b", '0', 0, NULL);
    sk_buf_truncate(&b, b.len - 100);
    expect_bad("cuthdr.tar", &b, "truncated tar");

    /* negative base-256 size */
    sk_buf_reset(&b);
    memset(neg, 0xff, sizeof(neg));
    add_header(&b, "a", '0', 0, neg);
    add_end(&b);
    expect_bad("negsize.tar", &b, "bad tar header at byte 0 (size)");

    /* base-256 size beyond 64 bits */
    sk_buf_reset(&b);
    memset(huge, 0x7f, sizeof(huge));
    huge[0] = 0x80 | 0x3f;
    add_header(&b, "a", '0', 0, huge);
    add_end(&b);
    expect_bad("hugesize.tar", &b, "bad tar header at byte 0 (size)");

    /* 8 GiB octal size in a small file */
    sk_buf_reset(&b);
    add_header(&b, "a", '0', 077777777777ULL, NULL);
    add_end(&b);
    expect_bad("bigsize.tar", &b, "truncated tar");

    /* malformed pax record */
    sk_buf_reset(&b);
    add_header(&b, "PaxHeaders/a", 'x', strlen(bad_pax), NULL);
    add_data(&b, bad_pax, strlen(bad_pax));
    add_header(&b, "a", '0', 0, NULL);
    add_end(&b);
    expect_bad("badpax.tar", &b, "pax record");
    sk_buf_release(&b);
}

/* EOF at a block boundary without end blocks is accepted (Go's archive/tar does too). */
TEST(no_end_blocks_and_empty)
{
    struct sk_buf b = SK_BUF_INIT;
    struct sk_tar t = SK_TAR_INIT;
    struct sk_err err;

    add_header(&b, "a", '0', 3, NULL);
    add_data(&b, "abc", 3);
    write_file(tpath("noend.tar"), b.p, b.len);
    ASSERT_OK(sk_tar_open(&t, tpath("noend.tar"), &err), &err);
    ASSERT(t.n == 1);
    sk_tar_release(&t);
    write_file(tpath("empty.tar"), "", 0);
    ASSERT_OK(sk_tar_open(&t, tpath("empty.tar"), &err), &err);
    ASSERT(t.n == 0);
    sk_tar_release(&t);
    ASSERT_ERR(sk_tar_open(&t, tpath("absent.tar"), &err), &err, SK_E_USAGE);
    ASSERT(err.sys_errno != 0);
    ASSERT_ERR(sk_tar_open(&t, tmpdir, &err), &err, SK_E_USAGE);
    sk_buf_release(&b);
}

int main(void)
{
    char cmd[600];
    int rc;

    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(normalize);
    RUN(ustar_prefix_and_links);
    RUN(gnu_long_names);
    RUN(pax_names);
    RUN(pax_and_base256_sizes);
    RUN(broken_archives);
    RUN(no_end_blocks_and_empty);
    rc = DONE();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
