/* SPDX-License-Identifier: Apache-2.0 */
/* rampart deployment: a device group's deployments (the set of images its
 * devices should run, one per component), their history, and rolling back
 * to an earlier one. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "rampart/deployment.h"
#include "service.h"

static const cli_field deployment_fields[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Product", "product", CLI_FIELD_TEXT },
        { "Device group", "device_group", CLI_FIELD_TEXT },
        { "Sequence", "seq", CLI_FIELD_TEXT },
        { "Current", "current", CLI_FIELD_BOOL },
        { "Rollback of", "rollback_of", CLI_FIELD_TEXT },
        { "Images", "images", CLI_FIELD_COUNT },
        { "Created", "created_at", CLI_FIELD_TIME },
        { "Created by", "created_by", CLI_FIELD_TEXT },
        {}
};

static const cli_field deployment_columns[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Seq", "seq", CLI_FIELD_TEXT },
        { "Current", "current", CLI_FIELD_BOOL },
        { "Images", "images", CLI_FIELD_COUNT },
        { "Rollback of", "rollback_of", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        { "Created by", "created_by", CLI_FIELD_TEXT },
        {}
};

static const cli_field image_columns[] = {
        { "Component", "component_id", CLI_FIELD_TEXT },
        { "Type", "type", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Version", "version", CLI_FIELD_TEXT },
        { "Image", "id", CLI_FIELD_TEXT },
        { "Digest", "digest", CLI_FIELD_TEXT },
        {}
};

/* The product and group names the command was given: --product P
 * --device-group G, or --device-group P/G. */
typedef struct target {
        char *product, *group;
} target;

static void target_done(target *t) {
        free(t->product);
        free(t->group);
}

static int get_target(const cli_svc *s, target *ret) {
        const char *p = cli_svc_opt(s, "product"), *g = cli_svc_opt(s, "device-group");
        const char *slash = g ? strchr(g, '/') : NULL;
        if (!g)
                return cli_usage_error(s->cmd, "missing --device-group G (with --product P)");
        if (!p && slash && slash != g && slash[1] && !strchr(slash + 1, '/')) {
                ret->product = strndup(g, (size_t) (slash - g));
                ret->group = strdup(slash + 1);
        } else if (!p) {
                return cli_usage_error(s->cmd, "missing --product P (the device group's product; or give "
                                       "--device-group PRODUCT/GROUP)");
        } else {
                ret->product = strdup(p);
                ret->group = strdup(g);
        }
        if (!ret->product || !ret->group)
                return cli_fail(-ENOMEM, NULL, NULL);
        return CLI_EXIT_OK;
}

#define DEPLOYMENTS(s, t) CLI_TENANT(s), "products", (t).product, "device-groups", (t).group, "deployments"

/* A deployment: its fields, then (tables) its images. */
static int print_deployment(const cli_svc *s, json_t *d) {
        if (s->fmt == CLI_FORMAT_JSON)
                return cli_show(s, d, deployment_fields);
        json_t *ims = json_incref(json_object_get(d, "images"));
        int x = cli_show(s, d, deployment_fields);
        if (x == CLI_EXIT_OK && json_array_size(ims) > 0) {
                printf("\n");
                return cli_list(s, json_pack("{s:o}", "images", ims), "images", image_columns);
        }
        json_decref(ims);
        return x;
}

/* --images: ids or digests, comma-separated (the form the command line is
 * rewritten into: see deployment_create_main). */
static int deployment_create(cli_svc *s) {
        _cleanup_(target_done) target t = {};
        int x = get_target(s, &t);
        if (x != CLI_EXIT_OK)
                return x;
        const char *list = cli_svc_opt(s, "images");
        if (!list)
                return cli_usage_error(s->cmd, "missing --images ID... (image ids or digests, as 'rampart image "
                                       "list' prints; --images with nothing after it deploys no images)");
        _cleanup_(json_decrefp) json_t *ids = json_array();
        if (!ids)
                return cli_fail(-ENOMEM, NULL, NULL);
        for (const char *p = list; *p; ) {
                size_t n = strcspn(p, ",");
                if (n > 0) {
                        _cleanup_free_ char *id = strndup(p, n);
                        if (!id)
                                return cli_fail(-ENOMEM, NULL, NULL);
                        size_t len = strlen(id), hex = strspn(id, "0123456789abcdefABCDEF");
                        if ((len != 32 && len != 64) || hex != len)
                                return cli_usage_error(s->cmd, "--images: '%s' is not an image id (32 hex digits) or "
                                                       "digest (64 hex digits)", id);
                        if (json_array_size(ids) == RP_DEPLOYMENT_MAX_IMAGES)
                                return cli_usage_error(s->cmd, "--images: more than %d images (a deployment has one "
                                                       "per component, at most %d)", RP_DEPLOYMENT_MAX_IMAGES,
                                                       RP_DEPLOYMENT_MAX_IMAGES);
                        if (json_array_append_new(ids, json_string(id)) < 0)
                                return cli_fail(-ENOMEM, NULL, NULL);
                }
                p += n + (p[n] == ',');
        }
        json_t *b = json_pack("{s:O}", "images", ids), *d = NULL;
        if (!b)
                return cli_fail(-ENOMEM, NULL, NULL);
        x = cli_svc_call(s, "POST", b, NULL, &d, CLI_PATH(DEPLOYMENTS(s, t)));
        json_decref(b);
        if (x != CLI_EXIT_OK) {
                if (s->status.status == 400 && streq(s->status.code, "duplicate_component"))
                        fprintf(stderr, "hint: a deployment has one image per component: give each component's "
                                "image once\n");
                else if (s->status.status == 404)
                        fprintf(stderr, "hint: 'rampart image list' shows the tenant's images; 'rampart device-group "
                                "list --product P' its groups\n");
                return x;
        }
        return print_deployment(s, d);
}

static int deployment_list(cli_svc *s) {
        _cleanup_(target_done) target t = {};
        int x = get_target(s, &t);
        if (x != CLI_EXIT_OK)
                return x;
        const char *limit = cli_svc_opt(s, "limit");
        _cleanup_free_ char *q = NULL;
        long n;
        if (limit && (x = cli_check_number(s, "limit", limit, 1, 1000, &n)) != CLI_EXIT_OK)
                return x;
        if (limit && cli_query_add(&q, "limit", limit) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        json_t *ans = NULL;
        x = cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH(DEPLOYMENTS(s, t)));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "deployments", deployment_columns);
}

static int deployment_show(cli_svc *s) {
        _cleanup_(target_done) target t = {};
        int x = get_target(s, &t);
        if (x == CLI_EXIT_OK)
                x = cli_check_object_id(s, "a deployment", s->args[0]);
        json_t *d = NULL;
        if (x == CLI_EXIT_OK)
                x = cli_svc_call(s, "GET", NULL, NULL, &d, CLI_PATH(DEPLOYMENTS(s, t), s->args[0]));
        return x != CLI_EXIT_OK ? x : print_deployment(s, d);
}

/* The deployment before the current one (by sequence), from a list
 * newest first: the one to roll back to when --to is not given. */
static int previous_deployment(cli_svc *s, const target *t, char ret[33]) {
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, "limit=1000", &ans, CLI_PATH(DEPLOYMENTS(s, *t)));
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_(json_decrefp) json_t *a = ans;
        json_t *list = json_object_get(a, "deployments"), *d;
        size_t i;
        bool after_current = false;
        json_array_foreach(list, i, d) {
                const char *id = json_string_value(json_object_get(d, "id"));
                if (after_current && id && strlen(id) == 32) {
                        snprintf(ret, 33, "%s", id);
                        return CLI_EXIT_OK;
                }
                if (json_is_true(json_object_get(d, "current")))
                        after_current = true;
        }
        rp_error err = {};
        rp_error_set(&err, -ENOENT, "device group %s/%s has %s", t->product, t->group,
                     after_current ? "no deployment before the current one" : "no current deployment");
        return cli_fail(-ENOENT, &err, after_current ? "'rampart deployment list' shows its history; give --to "
                                                       "DEPLOYMENT to deploy one of them again" :
                                                       "'rampart deployment create' makes one");
}

static int deployment_rollback(cli_svc *s) {
        _cleanup_(target_done) target t = {};
        int x = get_target(s, &t);
        if (x != CLI_EXIT_OK)
                return x;
        char to[33];
        const char *given = cli_svc_opt(s, "to");
        if (given) {
                x = cli_check_object_id(s, "a deployment", given);
                if (x != CLI_EXIT_OK)
                        return x;
                snprintf(to, sizeof to, "%s", given);
        } else {
                x = previous_deployment(s, &t, to);
                if (x != CLI_EXIT_OK)
                        return x;
        }
        json_t *d = NULL;
        x = cli_svc_call(s, "POST", NULL, NULL, &d, CLI_PATH(DEPLOYMENTS(s, t), to, "rollback"));
        if (x != CLI_EXIT_OK)
                return x;
        if (s->fmt != CLI_FORMAT_JSON)
                printf("Deployed the images of deployment %s again, as a new deployment:\n\n", to);
        return print_deployment(s, d);
}

static const cli_opt create_opts[] = {
        { "product", "P", "the device group's product (name or id)" },
        { "device-group", "G", "the device group (name or id; or PRODUCT/GROUP)" },
        { "images", "ID...", "the images to deploy: ids or digests, one per component (required)" },
        {}
};

static const cli_opt list_opts[] = {
        { "product", "P", "the device group's product (name or id)" },
        { "device-group", "G", "the device group (name or id; or PRODUCT/GROUP)" },
        { "limit", "N", "at most N deployments, newest first (default 100)" },
        {}
};

static const cli_opt show_opts[] = {
        { "product", "P", "the device group's product (name or id)" },
        { "device-group", "G", "the device group (name or id; or PRODUCT/GROUP)" },
        {}
};

static const cli_opt rollback_opts[] = {
        { "product", "P", "the device group's product (name or id)" },
        { "device-group", "G", "the device group (name or id; or PRODUCT/GROUP)" },
        { "to", "DEPLOYMENT", "the deployment whose images to deploy again (default: the one before the current)" },
        {}
};

static const cli_svc_cmd create_cmd = {
        "create", "--product P --device-group G --images ID...", 0, 0, create_opts, CLI_SVC_TENANT,
        "Deploy a set of images to a device group",
        "Makes the images the device group's devices should run: the group's new current\n"
        "deployment (the one before stays in its history). One image per component id;\n"
        "an image is named by its id or digest, as 'rampart image list' prints. Give the\n"
        "ids after one --images, or --images once per image. What each device installs\n"
        "also depends on the group's update policy: UpdateAll (os, app, rt-app),\n"
        "No3rdPartyAppUpdates (os only), NoUpdates (none).",
        deployment_create,
};

static const cli_svc_cmd commands[] = {
        { "list", "--product P --device-group G [--limit N]", 0, 0, list_opts, CLI_SVC_TENANT,
          "List a device group's deployments, newest first",
          "Lists a device group's deployments, newest first: the current one and its\n"
          "history, with the deployment each rollback re-deployed.",
          deployment_list },
        { "show", "ID --product P --device-group G", 1, 1, show_opts, CLI_SVC_TENANT,
          "Show a deployment and its images",
          "Shows a deployment of a device group and its images.",
          deployment_show },
        { "rollback", "--product P --device-group G [--to DEPLOYMENT]", 0, 0, rollback_opts, CLI_SVC_TENANT,
          "Deploy an earlier deployment's images again",
          "Rolls a device group back: deploys the images of an earlier deployment again,\n"
          "as a new deployment (so devices see a newer version and accept it). By default\n"
          "the deployment before the current one; --to names another.",
          deployment_rollback },
};

/* `deployment create`: --images takes several ids ("--images A B C"), or
 * is given once per id ("--images A --images B"); both become one
 * "--images A,B,C" for the common option parser. */
static int deployment_create_main(int argc, char **argv) {
        if (cli_wants_help(argc, argv))
                return cli_svc_main("deployment create", &create_cmd, argc, argv);
        _cleanup_free_ char **args = calloc((size_t) argc + 3, sizeof *args);
        _cleanup_free_ char *list = strdup("");
        if (!args || !list)
                return cli_fail(-ENOMEM, NULL, NULL);
        int n = 0;
        bool seen = false;
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *value = NULL;
                bool images = streq(a, "--images");
                if (!images && strncmp(a, "--images=", 9) == 0) {
                        images = true;
                        value = a + 9;
                }
                if (!images) {
                        args[n++] = argv[i];
                        continue;
                }
                seen = true;
                for (;;) {
                        if (!value) {
                                if (i + 1 >= argc || argv[i + 1][0] == '-')
                                        break;
                                value = argv[++i];
                        }
                        _cleanup_free_ char *old = TAKE_PTR(list);
                        if (asprintf(&list, "%s%s%s", old, *old && *value ? "," : "", value) < 0)
                                return cli_fail(-ENOMEM, NULL, NULL);
                        value = NULL;
                }
        }
        if (seen) {
                args[n++] = (char *) "--images";
                /* The option parser refuses an empty value: a lone comma
                 * stands for "no images". */
                args[n++] = *list ? list : (char *) ",";
        }
        args[n] = NULL;
        return cli_svc_main("deployment create", &create_cmd, n, args);
}

static const cli_command local[] = {
        { "create", deployment_create_main, "Deploy a set of images to a device group" },
};

int cmd_deployment(int argc, char **argv) {
        return cli_svc_group("deployment", "A device group's deployments: the images its devices run.", local,
                             ELEMENTSOF(local), commands, ELEMENTSOF(commands), argc, argv);
}
