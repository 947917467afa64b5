#!/usr/bin/env bash
# docs/openapi.json documents exactly the routes rampart-server registers:
# `rampart-server --print-routes` (METHOD PATH per line, from
# src/server/api/routes.c) against the document's paths and methods, both
# ways; and the document is an OpenAPI 3.0 one whose every operation has an
# id, a summary and responses, with a declared parameter for each {name}.
. "$(dirname "$0")/lib.sh"
: "${RAMPART_SERVER:?run this test through ctest}"
DOC=$RAMPART_SOURCE_DIR/docs/openapi.json

expect_ok "rampart-server --print-routes" "$RAMPART_SERVER" --print-routes
cp "$T/out" "$T/routes"
n=$(wc -l <"$T/routes")
[ "$n" -ge 40 ] && ok || fail "--print-routes printed $n routes"

# check ROUTES DOC: prints what differs and exits 1 if anything does.
check() {
  python3 - "$1" "$2" <<'EOF'
import json, re, sys
routes = set()
for line in open(sys.argv[1]):
    method, path = line.split()
    routes.add((method.upper(), path))
doc = json.load(open(sys.argv[2]))
bad = []
if not str(doc.get("openapi", "")).startswith("3.0."):
    bad.append("not an OpenAPI 3.0 document: openapi is %r" % doc.get("openapi"))
documented = set()
params = doc.get("components", {}).get("parameters", {})
for path, item in doc.get("paths", {}).items():
    for method, op in item.items():
        if method not in ("get", "post", "put", "patch", "delete", "head", "options"):
            continue
        documented.add((method.upper(), path))
        where = "%s %s" % (method.upper(), path)
        for k in ("operationId", "summary", "responses"):
            if not op.get(k):
                bad.append("%s: no %s" % (where, k))
        declared = set()
        for p in op.get("parameters", []):
            if "$ref" in p:
                p = params.get(p["$ref"].rsplit("/", 1)[1], {})
            if p.get("in") == "path":
                declared.add(p.get("name"))
        for name in re.findall(r"\{(\w+)\}", path):
            if name not in declared:
                bad.append("%s: path parameter {%s} is not declared" % (where, name))
for m, p in sorted(routes - documented):
    bad.append("the server has %s %s; docs/openapi.json does not" % (m, p))
for m, p in sorted(documented - routes):
    bad.append("docs/openapi.json has %s %s; the server does not" % (m, p))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
}

expect_ok "docs/openapi.json matches --print-routes" check "$T/routes" "$DOC"

# The check can fail: a route the document lacks, one the server lacks, an
# undeclared path parameter, another OpenAPI version.
python3 - "$DOC" "$T/missing.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); del d["paths"]["/v1/attest"]["post"]; json.dump(d, open(sys.argv[2], "w"))
EOF
if check "$T/routes" "$T/missing.json" >"$T/out"; then fail "a route missing from the document passes"
else expect_out "a route missing from the document" "the server has POST /v1/attest; docs/openapi.json does not"; fi
python3 - "$DOC" "$T/extra.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["paths"]["/v1/frob"] = {"get": d["paths"]["/healthz"]["get"]}; json.dump(d, open(sys.argv[2], "w"))
EOF
if check "$T/routes" "$T/extra.json" >"$T/out"; then fail "a route the server lacks passes"
else expect_out "a route the server lacks" "docs/openapi.json has GET /v1/frob; the server does not"; fi
python3 - "$DOC" "$T/param.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1])); d["paths"]["/v1/tokens/{token}"]["delete"]["parameters"] = []; json.dump(d, open(sys.argv[2], "w"))
EOF
if check "$T/routes" "$T/param.json" >"$T/out"; then fail "an undeclared path parameter passes"
else expect_out "an undeclared path parameter" "DELETE /v1/tokens/\{token\}: path parameter \{token\} is not declared"; fi
sed 's/"openapi": "3.0.3"/"openapi": "2.0"/' "$DOC" >"$T/v2.json"
if check "$T/routes" "$T/v2.json" >"$T/out"; then fail "another OpenAPI version passes"
else expect_out "another OpenAPI version" "not an OpenAPI 3.0 document"; fi

finish
