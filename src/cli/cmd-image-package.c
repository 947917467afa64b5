/* SPDX-License-Identifier: Apache-2.0 */
/* rampart image-package: pack, show, verify and extract signed image
 * packages (docs/formats.md, "Image package"). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rampart/package.h"

#define ROW 15

static int help_pack(void) {
        printf("Usage: rampart image-package pack-application --manifest FILE --dir DIR --key KEY -o OUTPUT [OPTIONS]\n\n"
               "Builds a reproducible erofs image of DIR (plus app_manifest.json at its root),\n"
               "signs a manifest describing it and writes OUTPUT (an .imagepackage) atomically:\n"
               "on failure nothing is left behind.\n\n"
               "Options:\n"
               "      --manifest FILE      app_manifest.json; gives the component id, name and type\n"
               "      --dir DIR            the app's files; the manifest's EntryPoint must be an\n"
               "                           executable regular file in it\n"
               "      --key KEY            private signing key (PKCS#8 PEM, from 'rampart keys generate')\n"
               "  -o, --output OUTPUT      the package to write (here -o is a path, not a format)\n"
               "      --image-version N    the version number devices compare against rollback (default 1)\n"
               "      --version-name TEXT  a version for people, e.g. 1.4.2 (optional)\n"
               "      --json               print the summary as JSON\n"
               "      --force              replace OUTPUT even if it is not an image package\n"
               "  -h, --help               show this help\n\n"
               "OUTPUT may replace an existing image package; any other file needs --force, and\n"
               "the key, the manifest and the files in DIR are never replaced.\n"
               "The build time is $SOURCE_DATE_EPOCH when set (for reproducible builds), else now.\n"
               "mkfs.erofs comes from erofs-utils (scripts/install-deps); $RAMPART_MKFS_EROFS\n"
               "names another one.\n");
        return CLI_EXIT_OK;
}

static int help_pack_os(void) {
        printf("Usage: rampart image-package pack-os --image FILE --component-id GUID --name NAME --key KEY\n"
               "                                    -o OUTPUT [OPTIONS]\n\n"
               "Signs a manifest describing an OS image (any bytes: the device's OS update\n"
               "mechanism decides what they are) and writes OUTPUT, an .imagepackage of type\n"
               "os, atomically. The image is read twice: once for its digest, once while it is\n"
               "copied; if it changed in between, nothing is written.\n\n"
               "Options:\n"
               "      --image FILE         the OS image\n"
               "      --component-id GUID  the OS component's id (the same for every version)\n"
               "      --name NAME          a name for people, e.g. rampart-os-arm64\n"
               "      --key KEY            private signing key (PKCS#8 PEM, from 'rampart keys generate')\n"
               "  -o, --output OUTPUT      the package to write (here -o is a path, not a format)\n"
               "      --image-version N    the version number devices compare against rollback (default 1)\n"
               "      --version-name TEXT  a version for people, e.g. 2026.11 (optional)\n"
               "      --json               print the summary as JSON\n"
               "      --force              replace OUTPUT even if it is not an image package\n"
               "  -h, --help               show this help\n\n"
               "The build time is $SOURCE_DATE_EPOCH when set, else now.\n");
        return CLI_EXIT_OK;
}

static int help_show(void) {
        printf("Usage: rampart image-package show PACKAGE [--key-pub KEY] [-o table|json]\n\n"
               "Shows a package's signed manifest. Without --key-pub nothing is verified and the\n"
               "output says \"signature not checked\"; with it, the signature, image size and digest\n"
               "are verified first, and a package that fails is refused (exit 1).\n\n"
               "Options:\n"
               "      --key-pub KEY        public key to verify with (PEM)\n"
               "  -o, --output FORMAT      table (default) or json (here -o is a format)\n"
               "  -h, --help               show this help\n");
        return CLI_EXIT_OK;
}

static int help_verify(void) {
        printf("Usage: rampart image-package verify PACKAGE --key-pub KEY [-o table|json]\n\n"
               "Verifies a package: its structure and format version, the signature with KEY,\n"
               "then the image bytes' size and SHA-256 digest (and the erofs superblock of app\n"
               "images). Exit 0 if intact and signed by KEY; exit 1 with the reason otherwise.\n\n"
               "Options:\n"
               "      --key-pub KEY        public key to verify with (PEM)\n"
               "  -o, --output FORMAT      table (default) or json (here -o is a format)\n"
               "  -h, --help               show this help\n");
        return CLI_EXIT_OK;
}

static int help_extract(void) {
        printf("Usage: rampart image-package extract PACKAGE --key-pub KEY --output-dir DIR [--force]\n\n"
               "Verifies the signature with KEY, then copies the image bytes to\n"
               "DIR/COMPONENT-ID.erofs (DIR/COMPONENT-ID.img for os images) while checking them;\n"
               "the file appears only if the image verifies. An existing erofs image there is\n"
               "replaced; any other file needs --force; PACKAGE and KEY are never replaced.\n\n"
               "Options:\n"
               "      --key-pub KEY        public key to verify with (PEM)\n"
               "      --output-dir DIR     an existing directory\n"
               "      --force              replace the output file even if it is not an erofs image\n"
               "  -h, --help               show this help\n");
        return CLI_EXIT_OK;
}

/* Lowercase hex of buf, or "none". */
static void hex(const uint8_t *buf, size_t len, char *out, size_t out_size) {
        if (!buf || 2 * len + 1 > out_size) {
                snprintf(out, out_size, "none");
                return;
        }
        rp_hex_encode_buf(buf, len, out);
}

static void format_time(uint64_t t, char *out, size_t size) {
        struct tm tm;
        time_t tt = (time_t) t;
        if (t <= INT64_MAX && gmtime_r(&tt, &tm) && tm.tm_year < 9999 - 1900)
                strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
        else
                snprintf(out, size, "%" PRIu64, t);
}

/* pack-application's command line. */
typedef struct pack_args {
        const char *manifest, *dir, *key_path, *output, *version_name;
        const char *image, *component_id, *name;        /* pack-os */
        uint64_t version;
        bool json, force;
} pack_args;

/* Parses argv into a: -1 to go on, or the exit code to end with (--help,
 * a usage error). */
static int parse_pack_args(bool os, int argc, char **argv, pack_args *a) {
        static const struct option app_opts[] = {
                { "manifest",      required_argument, NULL, 'm' },
                { "dir",           required_argument, NULL, 'd' },
                { "key",           required_argument, NULL, 'k' },
                { "output",        required_argument, NULL, 'o' },
                { "image-version", required_argument, NULL, 'V' },
                { "version-name",  required_argument, NULL, 'N' },
                { "json",          no_argument,       NULL, 'j' },
                { "force",         no_argument,       NULL, 'f' },
                { "help",          no_argument,       NULL, 'h' },
                {}
        };
        static const struct option os_opts[] = {
                { "image",         required_argument, NULL, 'i' },
                { "component-id",  required_argument, NULL, 'c' },
                { "name",          required_argument, NULL, 'n' },
                { "key",           required_argument, NULL, 'k' },
                { "output",        required_argument, NULL, 'o' },
                { "image-version", required_argument, NULL, 'V' },
                { "version-name",  required_argument, NULL, 'N' },
                { "json",          no_argument,       NULL, 'j' },
                { "force",         no_argument,       NULL, 'f' },
                { "help",          no_argument,       NULL, 'h' },
                {}
        };
        const char *cmd = os ? "image-package pack-os" : "image-package pack-application";
        *a = (pack_args) { .version = 1 };

        if (cli_wants_help(argc, argv))
                return os ? help_pack_os() : help_pack();
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, "+:o:h", os ? os_opts : app_opts, NULL)) != -1; ) {
                switch (c) {
                case 'i':
                        a->image = optarg;
                        break;
                case 'c':
                        a->component_id = optarg;
                        break;
                case 'n':
                        if (!*optarg || strlen(optarg) > RP_PACKAGE_NAME_MAX ||
                            !rp_str_is_printable(optarg, strlen(optarg)))
                                return cli_usage_error(cmd, "--name must be 1 to %d printable characters",
                                                       RP_PACKAGE_NAME_MAX);
                        a->name = optarg;
                        break;
                case 'm':
                        a->manifest = optarg;
                        break;
                case 'd':
                        a->dir = optarg;
                        break;
                case 'k':
                        a->key_path = optarg;
                        break;
                case 'o':
                        a->output = optarg;
                        break;
                case 'V': {
                        size_t n = strlen(optarg);
                        if (n == 0 || n > 10 || strspn(optarg, "0123456789") != n ||
                            strtoull(optarg, NULL, 10) > RP_PACKAGE_VERSION_MAX)
                                return cli_usage_error(cmd, "--image-version must be a number from 0 to %" PRIu64,
                                                       (uint64_t) RP_PACKAGE_VERSION_MAX);
                        a->version = strtoull(optarg, NULL, 10);
                        break;
                }
                case 'N':
                        if (!*optarg || strlen(optarg) > RP_PACKAGE_VERSION_NAME_MAX ||
                            !rp_str_is_printable(optarg, strlen(optarg)))
                                return cli_usage_error(cmd, "--version-name must be 1 to %d printable characters",
                                                       RP_PACKAGE_VERSION_NAME_MAX);
                        a->version_name = optarg;
                        break;
                case 'j':
                        a->json = true;
                        break;
                case 'f':
                        a->force = true;
                        break;
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (os && !a->image)
                return cli_usage_error(cmd, "--image is required");
        if (os && !a->component_id)
                return cli_usage_error(cmd, "--component-id is required");
        if (os && !a->name)
                return cli_usage_error(cmd, "--name is required");
        if (!os && !a->manifest)
                return cli_usage_error(cmd, "--manifest is required");
        if (!os && !a->dir)
                return cli_usage_error(cmd, "--dir is required");
        if (!a->key_path)
                return cli_usage_error(cmd, "--key is required");
        if (!a->output)
                return cli_usage_error(cmd, "-o OUTPUT is required");
        return -1;
}

/* What pack-application wrote, as a table or (--json) as JSON. */
static int print_packed(const pack_args *a, const rp_package_manifest *m, const rp_key *key) {
        char kid[2 * RP_KEY_ID_LEN + 1], digest[2 * RP_SHA256_LEN + 1];
        cli_key_id_hex(key, kid);
        rp_hex_encode_buf(m->image_sha256, RP_SHA256_LEN, digest);

        if (a->json)
                return cli_print_json(cli_json_raw(json_pack("{s:o, s:s, s:s, s:s, s:I, s:s?, s:I, s:s, s:s, s:s}",
                                                "output", cli_json_text(a->output),
                                                "component_id", m->component_id,
                                                "type", rp_image_type_name(m->type),
                                                "name", m->name,
                                                "version", (json_int_t) m->version,
                                                "version_name", m->version_name,
                                                "image_size", (json_int_t) m->image_size,
                                                "image_sha256", digest,
                                                "algorithm", rp_cose_alg_name(rp_key_cose_alg(key)),
                                                "key_id", kid), "output", a->output));
        char num[64];
        printf("Packed ");
        cli_print_safe(a->output);
        printf("\n");
        cli_print_row(ROW, "Component id:", m->component_id);
        cli_print_row(ROW, "Name:", m->name);
        cli_print_row(ROW, "Type:", rp_image_type_name(m->type));
        snprintf(num, sizeof num, "%" PRIu64, m->version);
        cli_print_row(ROW, "Version:", num);
        if (m->version_name)
                cli_print_row(ROW, "Version name:", m->version_name);
        snprintf(num, sizeof num, "%" PRIu64 " bytes", m->image_size);
        cli_print_row(ROW, "Image size:", num);
        cli_print_row(ROW, "Image SHA-256:", digest);
        cli_print_row(ROW, "Signer key id:", kid);
        return CLI_EXIT_OK;
}

static int pack_application(int argc, char **argv) {
        pack_args a;
        int x = parse_pack_args(false, argc, argv, &a);
        if (x >= 0)
                return x;
        const cli_input inputs[] = {
                { "the signing key (--key)", a.key_path, false },
                { "the app manifest (--manifest)", a.manifest, false },
                { "the app directory (--dir)", a.dir, true },
        };
        const cli_output out = { a.output, "the package", "-o", CLI_OUTPUT_PACKAGE, a.force };
        x = cli_check_output(&out, inputs, ELEMENTSOF(inputs));
        if (x != CLI_EXIT_OK)
                return x;

        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_key_load_private(a.key_path, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        uint64_t build_time;
        r = rp_package_build_time(&build_time, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);

        rp_pack_options o = {
                .app_manifest_path = a.manifest,
                .dir = a.dir,
                .key = key,
                .output = a.output,
                .version = a.version,
                .version_name = a.version_name,
                .build_time = build_time,
        };
        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = NULL;
        r = rp_package_pack_application(&o, &m, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        return print_packed(&a, m, key);
}

/* --component-id as the manifest wants it: a GUID, lowercase. */
static bool guid_normalize(const char *s, char out[RP_PACKAGE_GUID_LEN + 1]) {
        if (strlen(s) != RP_PACKAGE_GUID_LEN)
                return false;
        for (size_t i = 0; i < RP_PACKAGE_GUID_LEN; i++) {
                char ch = s[i];
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? ch != '-' : !((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
                        return false;
                out[i] = (char) (ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
        }
        out[RP_PACKAGE_GUID_LEN] = '\0';
        return true;
}

static int pack_os(int argc, char **argv) {
        pack_args a;
        int x = parse_pack_args(true, argc, argv, &a);
        if (x >= 0)
                return x;
        if (!a.image || !a.component_id || !a.name)     /* parse_pack_args made sure; for the analyzer */
                return CLI_EXIT_USAGE;
        rp_package_manifest m = {
                .format = RP_PACKAGE_FORMAT,
                .type = RP_IMAGE_TYPE_OS,
                .name = (char *) a.name,
                .version = a.version,
                .version_name = (char *) a.version_name,
        };
        if (!guid_normalize(a.component_id, m.component_id))
                return cli_usage_error("image-package pack-os", "--component-id must be a GUID "
                                       "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), e.g. from uuidgen");
        const cli_input inputs[] = {
                { "the signing key (--key)", a.key_path, false },
                { "the OS image (--image)", a.image, false },
        };
        const cli_output out = { a.output, "the package", "-o", CLI_OUTPUT_PACKAGE, a.force };
        x = cli_check_output(&out, inputs, ELEMENTSOF(inputs));
        if (x != CLI_EXIT_OK)
                return x;

        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_key_load_private(a.key_path, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        r = rp_package_build_time(&m.build_time, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        _cleanup_close_ int fd = open(a.image, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                r = rp_error_set(&err, -errno, "%s: cannot read: %m", a.image);
                return cli_fail(r, &err, NULL);
        }
        if (!S_ISREG(st.st_mode)) {
                rp_error_set(&err, -EINVAL, "%s: not a regular file", a.image);
                return cli_fail(-EINVAL, &err, NULL);
        }
        if ((uint64_t) st.st_size > RP_PACKAGE_IMAGE_MAX_SIZE) {
                rp_error_set(&err, -EFBIG, "%s: %jd bytes, more than a package may hold (%" PRIu64 ")", a.image,
                             (intmax_t) st.st_size, (uint64_t) RP_PACKAGE_IMAGE_MAX_SIZE);
                return cli_fail(-EFBIG, &err, NULL);
        }
        /* The digest, reading the image once here; rp_package_write reads
         * it again and refuses if the bytes changed in between. */
        _cleanup_(rp_sha256_freep) rp_sha256 *h = NULL;
        if (rp_sha256_new(&h) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        uint8_t buf[64 * 1024];
        uint64_t total = 0;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = rp_error_set(&err, -errno, "%s: read: %m", a.image);
                        return cli_fail(r, &err, NULL);
                }
                if (n == 0)
                        break;
                if (rp_sha256_update(h, buf, (size_t) n) < 0)
                        return cli_fail(-ENOMEM, NULL, NULL);
                total += (uint64_t) n;
        }
        if (rp_sha256_final(h, m.image_sha256) < 0)
                return cli_fail(-EIO, NULL, NULL);
        m.image_size = total;
        r = rp_package_write(a.output, &m, key, fd, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        return print_packed(&a, &m, key);
}

/* Options shared by show, verify and extract. */
typedef struct read_args {
        const char *path;
        const char *key_pub;
        const char *output_dir;
        cli_format format;
        bool force;
} read_args;

static int parse_read_args(const char *cmd, bool allow_format, bool allow_output_dir,
                           int argc, char **argv, read_args *a) {
        static const struct option opts[] = {
                { "key-pub",    required_argument, NULL, 'k' },
                { "output",     required_argument, NULL, 'o' },
                { "output-dir", required_argument, NULL, 'D' },
                { "force",      no_argument,       NULL, 'f' },
                { "help",       no_argument,       NULL, 'h' },
                {}
        };
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1; ) {
                switch (c) {
                case 'k':
                        a->key_pub = optarg;
                        break;
                case 'o':
                        if (!allow_format)
                                return cli_usage_error(cmd, "-o is not an option here (use --output-dir)");
                        if (cli_parse_format(cmd, optarg, &a->format) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'D':
                        if (!allow_output_dir)
                                return cli_usage_error(cmd, "unknown option '--output-dir'");
                        a->output_dir = optarg;
                        break;
                case 'f':
                        if (!allow_output_dir)
                                return cli_usage_error(cmd, "unknown option '--force'");
                        a->force = true;
                        break;
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "which package? (give the .imagepackage file)");
        if (optind + 1 < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
        a->path = argv[optind];
        return 0;
}

/* Opens a.path; with a key, verifies it fully. */
static int open_package(const read_args *a, rp_package **ret_pkg, rp_key **ret_key, rp_error *err) {
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        if (a->key_pub) {
                int r = rp_key_load_public(a->key_pub, &key, err);
                if (r < 0)
                        return r;
        }
        _cleanup_(rp_package_freep) rp_package *pkg = NULL;
        int r = key ? rp_package_open_verified(a->path, key, &pkg, err) : rp_package_open_unverified(a->path, &pkg, err);
        if (r < 0)
                return r;
        *ret_pkg = TAKE_PTR(pkg);
        *ret_key = TAKE_PTR(key);
        return 0;
}

static int print_package(const read_args *a, const rp_package *pkg, const rp_key *key) {
        /* Verified when key is set; the output says which. */
        const rp_package_manifest *m = rp_package_unverified_manifest(pkg);
        char digest[2 * RP_SHA256_LEN + 1], kid[2 * RP_KEY_ID_LEN + 1] = "none", given[2 * RP_KEY_ID_LEN + 1];
        char when[64], num[64];
        size_t kid_len;
        const uint8_t *k = rp_package_kid(pkg, &kid_len);
        /* The kid comes from the package: show at most a key id's worth. */
        hex(k, kid_len, kid, sizeof kid);
        rp_hex_encode_buf(m->image_sha256, RP_SHA256_LEN, digest);
        format_time(m->build_time, when, sizeof when);
        if (key)
                cli_key_id_hex(key, given);

        if (a->format == CLI_FORMAT_JSON) {
                json_t *am = NULL;
                if (m->app_manifest) {
                        am = json_loadb(m->app_manifest, m->app_manifest_len, 0, NULL);
                        if (!am)
                                am = json_stringn(m->app_manifest, m->app_manifest_len);
                }
                return cli_print_json(cli_json_raw(json_pack("{s:o, s:I, s:s, s:s, s:s, s:I, s:s?, s:I, s:s, s:I, s:s, s:s, s:s, s:s?, s:o?}",
                                                "file", cli_json_text(a->path),
                                                "format", (json_int_t) m->format,
                                                "component_id", m->component_id,
                                                "type", rp_image_type_name(m->type),
                                                "name", m->name,
                                                "version", (json_int_t) m->version,
                                                "version_name", m->version_name,
                                                "image_size", (json_int_t) m->image_size,
                                                "image_sha256", digest,
                                                "build_time", (json_int_t) m->build_time,
                                                "algorithm", rp_cose_alg_name(rp_package_alg(pkg)),
                                                "key_id", kid,
                                                "signature", key ? "verified" : "not-checked",
                                                "verified_with", key ? given : NULL,
                                                "app_manifest", am), "file", a->path));
        }

        cli_print_row(ROW, "File:", a->path);
        snprintf(num, sizeof num, "%" PRIu64, m->format);
        cli_print_row(ROW, "Format:", num);
        cli_print_row(ROW, "Component id:", m->component_id);
        cli_print_row(ROW, "Type:", rp_image_type_name(m->type));
        cli_print_row(ROW, "Name:", m->name);
        snprintf(num, sizeof num, "%" PRIu64, m->version);
        cli_print_row(ROW, "Version:", num);
        cli_print_row(ROW, "Version name:", m->version_name);
        snprintf(num, sizeof num, "%" PRIu64 " bytes", m->image_size);
        cli_print_row(ROW, "Image size:", num);
        cli_print_row(ROW, "Image SHA-256:", digest);
        cli_print_row(ROW, "Build time:", when);
        if (m->app_manifest) {
                snprintf(num, sizeof num, "%zu bytes of JSON", m->app_manifest_len);
                cli_print_row(ROW, "App manifest:", num);
        }
        cli_print_row(ROW, "Algorithm:", rp_cose_alg_name(rp_package_alg(pkg)));
        cli_print_row(ROW, "Signer key id:", kid);
        if (key) {
                _cleanup_free_ char *s = NULL;
                if (asprintf(&s, "verified with key id %s; image size and digest match", given) < 0)
                        return cli_fail(-ENOMEM, NULL, NULL);
                cli_print_row(ROW, "Signature:", s);
        } else
                cli_print_row(ROW, "Signature:", "NOT CHECKED (no --key-pub given); nothing above is verified");
        return CLI_EXIT_OK;
}

static int show(int argc, char **argv) {
        const char *cmd = "image-package show";
        if (cli_wants_help(argc, argv))
                return help_show();
        read_args a = { .format = CLI_FORMAT_TEXT };
        int r = parse_read_args(cmd, true, false, argc, argv, &a);
        if (r != 0)
                return r;

        rp_error err = {0};
        _cleanup_(rp_package_freep) rp_package *pkg = NULL;
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        r = open_package(&a, &pkg, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        return print_package(&a, pkg, key);
}

static int verify(int argc, char **argv) {
        const char *cmd = "image-package verify";
        if (cli_wants_help(argc, argv))
                return help_verify();
        read_args a = { .format = CLI_FORMAT_TEXT };
        int r = parse_read_args(cmd, true, false, argc, argv, &a);
        if (r != 0)
                return r;
        if (!a.key_pub)
                return cli_usage_error(cmd, "--key-pub is required (the public key the package must be signed with)");

        rp_error err = {0};
        _cleanup_(rp_package_freep) rp_package *pkg = NULL;
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        r = open_package(&a, &pkg, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);

        const rp_package_manifest *m;
        r = rp_package_get_manifest(pkg, &m, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        char kid[2 * RP_KEY_ID_LEN + 1], digest[2 * RP_SHA256_LEN + 1];
        cli_key_id_hex(key, kid);
        rp_hex_encode_buf(m->image_sha256, RP_SHA256_LEN, digest);
        if (a.format == CLI_FORMAT_JSON)
                return cli_print_json(cli_json_raw(json_pack("{s:o, s:b, s:s, s:s, s:s, s:I, s:I, s:s, s:s}",
                                                "file", cli_json_text(a.path),
                                                "verified", 1,
                                                "component_id", m->component_id,
                                                "type", rp_image_type_name(m->type),
                                                "name", m->name,
                                                "version", (json_int_t) m->version,
                                                "image_size", (json_int_t) m->image_size,
                                                "image_sha256", digest,
                                                "key_id", kid), "file", a.path));
        printf("OK: ");
        cli_print_safe(a.path);
        printf(": %s ", rp_image_type_name(m->type));
        cli_print_safe(m->name);
        printf(" (%s) version %" PRIu64 ", %" PRIu64 " bytes, signed by key id %s\n",
               m->component_id, m->version, m->image_size, kid);
        return CLI_EXIT_OK;
}

static int extract(int argc, char **argv) {
        const char *cmd = "image-package extract";
        if (cli_wants_help(argc, argv))
                return help_extract();
        read_args a = { .format = CLI_FORMAT_TEXT };
        int r = parse_read_args(cmd, false, true, argc, argv, &a);
        if (r != 0)
                return r;
        if (!a.key_pub)
                return cli_usage_error(cmd, "--key-pub is required (the image is verified before it is written)");
        if (!a.output_dir)
                return cli_usage_error(cmd, "--output-dir is required");

        rp_error err = {0};
        struct stat st;
        if (stat(a.output_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                rp_error_set(&err, -ENOTDIR, "%s: not an existing directory", a.output_dir);
                return cli_fail(-ENOTDIR, &err, NULL);
        }
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        r = rp_key_load_public(a.key_pub, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        /* Signature first: the output name below comes from the manifest.
         * The image is checked while it is copied, so it is read once. */
        _cleanup_(rp_package_freep) rp_package *pkg = NULL;
        r = rp_package_open_signed(a.path, key, &pkg, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        const rp_package_manifest *m;
        r = rp_package_get_manifest(pkg, &m, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        _cleanup_free_ char *out = NULL;
        if (asprintf(&out, "%s/%s.%s", a.output_dir, m->component_id,
                     m->type == RP_IMAGE_TYPE_OS ? "img" : "erofs") < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        const cli_input inputs[] = {
                { "the package", a.path, false },
                { "the public key (--key-pub)", a.key_pub, false },
        };
        const cli_output o = { out, "the image", "--output-dir", m->type == RP_IMAGE_TYPE_OS ? CLI_OUTPUT_NEW :
                               CLI_OUTPUT_EROFS, a.force };
        r = cli_check_output(&o, inputs, ELEMENTSOF(inputs));
        if (r != CLI_EXIT_OK)
                return r;
        r = rp_package_extract_image(pkg, out, &err);
        if (r < 0) {
                rp_error_prefix(&err, r, "%s: ", a.path);
                return cli_fail(r, &err, NULL);
        }
        printf("Extracted ");
        cli_print_safe(out);
        printf("\n");
        return CLI_EXIT_OK;
}

static const cli_command commands[] = {
        { "pack-application", pack_application, "Build, sign and write an app's image package" },
        { "pack-os",          pack_os,          "Sign an OS image into an image package" },
        { "show",             show,             "Show a package's manifest (-o json for scripts)" },
        { "verify",           verify,           "Verify a package's signature, image size and digest" },
        { "extract",          extract,          "Verify a package and write its image file" },
};

int cmd_image_package(int argc, char **argv) {
        return cli_dispatch("image-package", "Pack, show and verify signed image packages.",
                            commands, ELEMENTSOF(commands), argc, argv);
}
