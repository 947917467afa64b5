#!/usr/bin/env bash
# The management API over real TLS against a real rampart-server, once on
# SQLite and once on PostgreSQL (CTest registers this script as
# integration/server-api-sqlite and -postgres; api.sh's store_setup):
# tenants and their CAs, users and roles, tokens, manufacturer CAs, products
# and their default groups, device claims, releases, the audit log; what
# each role may not do; other tenants' objects unseen; bodies too large or
# malformed; SQL metacharacters in every string field stored and returned
# exactly, no table harmed. docs/api.md is what it checks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"

store_setup
D=$T/srv
start_server "$D" || { finish; exit 1; }
tables() { store_sql "$D" "$1" | sort | tr '\n' ' '; }
if [ "$STORE_KIND" = postgres ]; then
  TABLES_SQL="SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
else
  TABLES_SQL="SELECT name FROM sqlite_master WHERE type = 'table'"
fi
tables_before=$(tables "$TABLES_SQL")

# --- the first operator ---------------------------------------------------
ADMIN=$(cat "$ADMIN_TOKEN_FILE")
[[ $ADMIN =~ ^rpt_[0-9a-f]{64}$ ]] && ok || fail "admin.token holds '$ADMIN'"
[ "$(stat -c %a "$ADMIN_TOKEN_FILE")" = 600 ] && ok || fail "admin.token mode $(stat -c %a "$ADMIN_TOKEN_FILE")"
grep -q "event=bootstrap operator=admin" "$SERVER_LOG" && ok || fail "no bootstrap line: $(head -c 600 "$SERVER_LOG")"
API_TOKEN=$ADMIN
call "whoami (operator)" 200 GET /v1/whoami
expect_json "whoami: admin, Operator, no tenant" 'j["user"] == "admin" and j["role"] == "Operator" and j["tenant"] is None and len(j["token_id"]) == 32'
ADMIN_TOKEN_ID=$(jq_ 'j["token_id"]')

# --- authentication --------------------------------------------------------
API_TOKEN= refused "no token" 401 unauthenticated GET /v1/whoami
API_TOKEN=rpt_nothex refused "malformed token" 401 unauthenticated GET /v1/whoami
API_TOKEN=rpt_$(printf '%064d' 0) refused "unknown token" 401 unauthenticated GET /v1/whoami
API_TOKEN=${ADMIN^^} refused "the token in upper case" 401 unauthenticated GET /v1/whoami
grep -qi '^www-authenticate: Bearer' "$T/http.headers" && ok || fail "401 without WWW-Authenticate"

# --- tenants ---------------------------------------------------------------
call "create tenant acme" 201 POST /v1/tenants "$(body name=acme)"
expect_json "tenant acme" 'j["name"] == "acme" and j["allow_development"] is False and len(j["id"]) == 32 and len(j["ca_fingerprint"]) == 64 and j["created_at"] > 1700000000'
ACME=$(jq_ 'j["id"]') ACME_FP=$(jq_ 'j["ca_fingerprint"]')
export ACME
refused "the same name again" 409 conflict POST /v1/tenants "$(body name=acme)"
call "create tenant other" 201 POST /v1/tenants "$(body name=other allow_development:=true)"
OTHER=$(jq_ 'j["id"]')
expect_json "other allows development" 'j["allow_development"] is True'
for bad in '' 'a/b' "$(printf '%032x' 7)" $'tab\there' "$(printf 'x%.0s' {1..129})" $'rtl\u202eoverride'; do
  refused "tenant name '${bad:0:20}'" 400 bad_request POST /v1/tenants "$(body name="$bad")"
done
refused "no name" 400 bad_request POST /v1/tenants '{}'
refused "name of the wrong type" 400 bad_request POST /v1/tenants '{"name": 7}'
refused "an unknown field" 400 bad_request POST /v1/tenants "$(body name=x frob=1)"
expect_json "the message names the field" '"frob" in j["error"]["message"]'
refused "allow_development not a boolean" 400 bad_request POST /v1/tenants "$(body name=x allow_development=yes)"
call "list tenants" 200 GET /v1/tenants
expect_json "both tenants" 'sorted(t["name"] for t in j["tenants"]) == ["acme", "other"]'
call "tenant by name" 200 GET /v1/tenants/acme
expect_json "by name: acme" 'j["id"] == E("ACME")'
call "tenant by id" 200 GET "/v1/tenants/$ACME"
expect_json "by id: acme" 'j["name"] == "acme"'
call "tenant CA certificate" 200 GET /v1/tenants/acme/ca-certificate
grep -qi '^content-type: application/x-pem-file' "$T/http.headers" && ok || fail "CA certificate content type"
cp "$T/http.body" "$T/acme-ca.pem"
fp=$(openssl x509 -in "$T/acme-ca.pem" -outform DER | sha256sum | cut -d' ' -f1)
[ "$fp" = "$ACME_FP" ] && ok || fail "ca_fingerprint $ACME_FP is not the CA's SHA-256 $fp"
openssl x509 -in "$T/acme-ca.pem" -noout -text >"$T/ca.txt"
grep -q 'Subject: CN = rampart tenant acme' "$T/ca.txt" && grep -q 'CA:TRUE, pathlen:0' "$T/ca.txt" &&
  grep -q 'Certificate Sign, CRL Sign' "$T/ca.txt" && grep -q 'ASN1 OID: prime256v1' "$T/ca.txt" && ok ||
  fail "the tenant CA's profile: $(cat "$T/ca.txt")"
expect_ok "the tenant CA verifies itself" openssl verify -CAfile "$T/acme-ca.pem" "$T/acme-ca.pem"
call "allow development in acme" 200 PATCH /v1/tenants/acme '{"allow_development": true}'
expect_json "acme allows development" 'j["allow_development"] is True'
call "and not again" 200 PATCH /v1/tenants/acme '{"allow_development": false}'

# --- users, roles and tokens ------------------------------------------------
for u in alice:Administrator bob:Contributor carol:Reader; do
  call "add ${u%%:*}" 201 POST /v1/tenants/acme/users "$(body name="${u%%:*}" role="${u#*:}")"
  expect_json "${u%%:*} is ${u#*:} in acme" "j['name'] == '${u%%:*}' and j['role'] == '${u#*:}' and j['tenant'] == 'acme'"
done
refused "a user named like another" 409 conflict POST /v1/tenants/acme/users "$(body name=alice role=Reader)"
refused "an Operator user in a tenant" 400 bad_request POST /v1/tenants/acme/users "$(body name=op role=Operator)"
refused "a role that is none" 400 bad_request POST /v1/tenants/acme/users "$(body name=x role=God)"
call "olga in other" 201 POST /v1/tenants/other/users "$(body name=olga role=Administrator)"
token_for() {   # token_for TENANT USER VAR: a new token of USER into VAR, its id into VAR_ID
  call "a token for $2" 201 POST "/v1/tenants/$1/users/$2/tokens" "$(body label="$2's")"
  printf -v "$3" '%s' "$(jq_ 'j["token"]')"
  printf -v "$3_ID" '%s' "$(jq_ 'j["id"]')"
}
token_for acme alice ALICE
expect_json "the token answer" 'j["token"].startswith("rpt_") and len(j["token"]) == 68 and j["user"] == "alice" and j["label"] == "alice'"'"'s" and j["expires_at"] is None and j["revoked_at"] is None'
token_for acme bob BOB
token_for acme carol CAROL
token_for other olga OLGA
export ALICE_ID BOB_ID CAROL_ID
API_TOKEN=$ALICE call "whoami (alice)" 200 GET /v1/whoami
expect_json "alice: Administrator of acme" 'j["user"] == "alice" and j["role"] == "Administrator" and j["tenant"] == "acme"'
API_TOKEN=$ALICE call "alice lists acme's users" 200 GET /v1/tenants/acme/users
expect_json "three users" 'sorted(u["name"] for u in j["users"]) == ["alice", "bob", "carol"]'

# What each role may not do: 403 in its own tenant.
API_TOKEN=$CAROL refused "a Reader creates a product" 403 forbidden POST /v1/tenants/acme/products "$(body name=p)"
API_TOKEN=$CAROL refused "a Reader claims a device" 403 forbidden POST /v1/tenants/acme/devices "$(body device_id="$(printf '%064x' 1)")"
API_TOKEN=$CAROL refused "a Reader adds a release" 403 forbidden POST /v1/tenants/acme/releases \
  "$(body kind=os name=x version=1 measurement="$(printf '%064x' 1)")"
API_TOKEN=$CAROL call "a Reader reads products" 200 GET /v1/tenants/acme/products
API_TOKEN=$BOB refused "a Contributor adds a user" 403 forbidden POST /v1/tenants/acme/users "$(body name=x role=Reader)"
API_TOKEN=$BOB refused "a Contributor changes the tenant" 403 forbidden PATCH /v1/tenants/acme '{"allow_development": true}'
API_TOKEN=$BOB refused "a Contributor makes a token for another" 403 forbidden POST /v1/tenants/acme/users/carol/tokens '{}'
API_TOKEN=$BOB refused "a Contributor lists the tenant's tokens" 403 forbidden GET /v1/tenants/acme/tokens
API_TOKEN=$ALICE refused "an Administrator creates a tenant" 403 forbidden POST /v1/tenants "$(body name=mine)"
API_TOKEN=$ALICE refused "an Administrator trusts a CA service-wide" 403 forbidden POST /v1/manufacturers "$(body ca_pem=x)"
API_TOKEN=$ALICE refused "an Administrator reads the service's audit" 403 forbidden GET /v1/audit
# Another tenant's objects: 404, the same as objects that do not exist.
API_TOKEN=$ALICE refused "alice reads tenant other" 404 not_found GET /v1/tenants/other
API_TOKEN=$ALICE refused "alice reads tenant other by id" 404 not_found GET "/v1/tenants/$OTHER"
API_TOKEN=$ALICE refused "alice writes in other" 404 not_found POST /v1/tenants/other/products "$(body name=p)"
API_TOKEN=$ALICE refused "alice reads a tenant that does not exist" 404 not_found GET /v1/tenants/nowhere
# An operator may enter every tenant, but not one that does not exist.
API_TOKEN=$ADMIN refused "the operator reads a tenant that does not exist" 404 not_found GET /v1/tenants/nowhere
API_TOKEN=$ADMIN refused "the operator reads a tenant id nobody has" 404 not_found \
  GET /v1/tenants/0123456789abcdef0123456789abcdef
API_TOKEN=$ADMIN refused "the operator makes a product in no tenant" 404 not_found \
  POST /v1/tenants/nowhere/products "$(body name=p)"
API_TOKEN=$ADMIN refused "the operator claims a device into no tenant" 404 not_found \
  POST /v1/tenants/nowhere/devices "$(body device_id=0000000000000000000000000000000000000000000000000000000000000001)"
API_TOKEN=$ALICE call "alice lists tenants" 200 GET /v1/tenants
expect_json "alice sees acme only" '[t["name"] for t in j["tenants"]] == ["acme"]'
API_TOKEN=$OLGA refused "olga reads acme's devices" 404 not_found GET /v1/tenants/acme/devices

# Tokens: own ones for every role, others' for Administrators.
API_TOKEN=$CAROL call "carol makes her own token" 201 POST /v1/tokens "$(body label=laptop expires_in_days:=30)"
CAROL2=$(jq_ 'j["token"]') CAROL2_ID=$(jq_ 'j["id"]')
export CAROL2_ID
expect_json "it expires in 30 days" 'abs(j["expires_at"] - j["created_at"] - 30 * 86400) <= 5'
API_TOKEN=$CAROL call "carol lists her tokens" 200 GET /v1/tokens
expect_json "carol's two tokens, no secrets" 'len(j["tokens"]) == 2 and all("token" not in t and t["user"] == "carol" for t in j["tokens"])'
expect_json "last_used_at is set once a token is used" 'any(t["last_used_at"] for t in j["tokens"])'
API_TOKEN=$ALICE call "alice lists acme's tokens" 200 GET /v1/tenants/acme/tokens
expect_json "every acme user's tokens" 'sorted({t["user"] for t in j["tokens"]}) == ["alice", "bob", "carol"] and not any("hash" in t or "token" in t for t in j["tokens"])'
API_TOKEN=$OLGA call "a token without a body (every field optional)" 201 POST /v1/tokens
expect_json "never expires, no label" 'j["expires_at"] is None and j["label"] == "" and j["user"] == "olga"'
API_TOKEN=$OLGA refused "a body-less claim" 400 bad_json POST /v1/tenants/other/devices
API_TOKEN=$CAROL refused "expires_in_days 0" 400 bad_request POST /v1/tokens '{"expires_in_days": 0}'
API_TOKEN=$CAROL refused "carol revokes alice's token" 404 not_found DELETE "/v1/tokens/$ALICE_ID"
API_TOKEN=$OLGA refused "olga revokes carol's token" 404 not_found DELETE "/v1/tokens/$CAROL2_ID"
API_TOKEN=$CAROL call "carol revokes her new token" 204 DELETE "/v1/tokens/$CAROL2_ID"
API_TOKEN=$CAROL2 refused "the revoked token" 401 unauthenticated GET /v1/whoami
expect_json "it says revoked" '"revoked" in j["error"]["message"]'
API_TOKEN=$CAROL call "revoked twice" 204 DELETE "/v1/tokens/$CAROL2_ID"
API_TOKEN=$ALICE call "alice lists acme's tokens again" 200 GET /v1/tenants/acme/tokens
expect_json "the revoked token stays, with revoked_at" 'any(t["id"] == E("CAROL2_ID") and t["revoked_at"] for t in j["tokens"])'
# An expired token (aged in the store: the API gives at least a day).
API_TOKEN=$CAROL call "carol makes a token to age" 201 POST /v1/tokens '{"expires_in_days": 1}'
CAROL3=$(jq_ 'j["token"]') CAROL3_ID=$(jq_ 'j["id"]')
API_TOKEN=$CAROL3 call "it works" 200 GET /v1/whoami
store_sql "$D" "UPDATE tokens SET expires_at = 1000 WHERE id = '$CAROL3_ID'" >/dev/null
API_TOKEN=$CAROL3 refused "an expired token" 401 unauthenticated GET /v1/whoami
expect_json "it says expired" '"expired" in j["error"]["message"]'

# --- manufacturer CAs --------------------------------------------------------
expect_ok "a manufacturer CA" "$RAMPART" factory ca-create --dir "$T/mca"
expect_ok "another manufacturer CA" "$RAMPART" factory ca-create --dir "$T/mca2"
API_TOKEN=$ALICE call "acme trusts the CA" 201 POST /v1/tenants/acme/manufacturers "$(body name="Factory One" ca_pem="$(cat "$T/mca/ca.pem")")"
mfp=$(openssl x509 -in "$T/mca/ca.pem" -outform DER | sha256sum | cut -d' ' -f1)
expect_json "the manufacturer" "j['name'] == 'Factory One' and j['scope'] == 'tenant' and j['fingerprint'] == '$mfp' and 'CN=' in j['subject'] and j['not_after'] > j['created_at']"
MAN1=$(jq_ 'j["id"]')
API_TOKEN=$ALICE refused "the same CA again" 409 conflict POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/mca/ca.pem")")"
API_TOKEN=$ALICE refused "a private key" 400 bad_request POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/mca/ca.key")")"
expect_json "the private key is named" '"never send a private key" in j["error"]["message"]'
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/leaf.key" -subj /CN=leaf \
  -addext basicConstraints=critical,CA:FALSE -days 2 -out "$T/leaf.pem" 2>/dev/null
API_TOKEN=$ALICE refused "a certificate that is no CA" 400 bad_request POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/leaf.pem")")"
API_TOKEN=$ALICE refused "no PEM at all" 400 bad_request POST /v1/tenants/acme/manufacturers "$(body ca_pem=garbage)"
call "the operator trusts the other CA service-wide" 201 POST /v1/manufacturers "$(body ca_pem="$(cat "$T/mca2/ca.pem")")"
expect_json "service scope, named after its CN" 'j["scope"] == "service" and j["name"] == "rampart manufacturer CA"'
MAN2=$(jq_ 'j["id"]')
export MAN2
API_TOKEN=$CAROL call "acme's manufacturers" 200 GET /v1/tenants/acme/manufacturers
expect_json "the tenant's and the service's" 'sorted(m["scope"] for m in j["manufacturers"]) == ["service", "tenant"]'
API_TOKEN=$CAROL call "the service's manufacturers" 200 GET /v1/manufacturers
expect_json "the service's only" '[m["id"] for m in j["manufacturers"]] == [E("MAN2")]'
API_TOKEN=$OLGA call "other's manufacturers" 200 GET /v1/tenants/other/manufacturers
expect_json "other sees the service's only" '[m["id"] for m in j["manufacturers"]] == [E("MAN2")]'
API_TOKEN=$ALICE refused "a tenant removes the service's CA" 404 not_found DELETE "/v1/tenants/acme/manufacturers/$MAN2"
API_TOKEN=$OLGA refused "olga removes acme's CA" 404 not_found DELETE "/v1/tenants/other/manufacturers/$MAN1"
API_TOKEN=$ALICE call "alice removes acme's CA" 204 DELETE "/v1/tenants/acme/manufacturers/$MAN1"
call "the operator removes the service's CA" 204 DELETE "/v1/manufacturers/$MAN2"
cat "$T/mca/ca.pem" "$T/mca2/ca.pem" >"$T/both.pem"
API_TOKEN=$ALICE call "two CAs in one ca_pem" 201 POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/both.pem")")"
expect_json "both, in one answer" 'len(j["manufacturers"]) == 2 and j["manufacturers"][0]["id"] == j["id"]'

# --- products and device groups ---------------------------------------------
API_TOKEN=$BOB call "bob creates a product" 201 POST /v1/tenants/acme/products "$(body name=gadget description="a gadget")"
expect_json "with the five default groups" 'j["name"] == "gadget" and j["description"] == "a gadget" and {g["name"]: g["update_policy"] for g in j["device_groups"]} == {"Development": "No3rdPartyAppUpdates", "Field Test": "UpdateAll", "Field Test OS Evaluation": "UpdateAll", "Production": "UpdateAll", "Production OS Evaluation": "UpdateAll"}'
PRODUCT=$(jq_ 'j["id"]')
API_TOKEN=$BOB refused "the same product again" 409 conflict POST /v1/tenants/acme/products "$(body name=gadget)"
API_TOKEN=$BOB call "the product by id" 200 GET "/v1/tenants/acme/products/$PRODUCT"
expect_json "by id" 'j["name"] == "gadget" and len(j["device_groups"]) == 5'
API_TOKEN=$BOB call "products" 200 GET /v1/tenants/acme/products
expect_json "one product, its groups" 'len(j["products"]) == 1 and len(j["products"][0]["device_groups"]) == 5'
API_TOKEN=$BOB call "a group of its own" 201 POST /v1/tenants/acme/products/gadget/device-groups \
  "$(body name=Beta update_policy=NoUpdates description="beta testers")"
expect_json "Beta" 'j["name"] == "Beta" and j["product"] == "gadget" and j["update_policy"] == "NoUpdates" and j["description"] == "beta testers"'
API_TOKEN=$BOB refused "an update policy that is none" 400 bad_request POST /v1/tenants/acme/products/gadget/device-groups \
  "$(body name=Gamma update_policy=Sometimes)"
API_TOKEN=$BOB refused "a group name taken" 409 conflict POST /v1/tenants/acme/products/gadget/device-groups "$(body name=Production)"
API_TOKEN=$BOB call "change Development" 200 PATCH /v1/tenants/acme/products/gadget/device-groups/Development \
  "$(body update_policy=UpdateAll description="all updates")"
expect_json "Development changed" 'j["update_policy"] == "UpdateAll" and j["description"] == "all updates"'
API_TOKEN=$CAROL call "a group by its name with a space" 200 GET "/v1/tenants/acme/products/gadget/device-groups/$(urlenc 'Field Test')"
expect_json "Field Test" 'j["name"] == "Field Test"'
API_TOKEN=$CAROL call "groups" 200 GET /v1/tenants/acme/products/gadget/device-groups
expect_json "six groups" 'len(j["device_groups"]) == 6'
API_TOKEN=$CAROL call "?limit=2" 200 GET "/v1/tenants/acme/products/gadget/device-groups?limit=2"
expect_json "two" 'len(j["device_groups"]) == 2'
API_TOKEN=$CAROL refused "?limit=0" 400 bad_request GET "/v1/tenants/acme/products/gadget/device-groups?limit=0"
API_TOKEN=$CAROL refused "?limit=1001" 400 bad_request GET "/v1/tenants/acme/devices?limit=1001"

# --- devices -----------------------------------------------------------------
DEV=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export DEV
API_TOKEN=$BOB call "bob claims a device" 201 POST /v1/tenants/acme/devices "$(body device_id="$DEV" device_group="gadget/Field Test")"
expect_json "the device" 'j["id"] == E("DEV") and j["tenant"] == "acme" and j["product"] == "gadget" and j["device_group"] == "gadget/Field Test" and j["enabled"] is True and j["last_attested_at"] is None'
API_TOKEN=$BOB call "claimed again, in upper case" 200 POST /v1/tenants/acme/devices "$(body device_id="${DEV^^}")"
expect_json "the same device, unchanged" 'j["id"] == E("DEV") and j["device_group"] == "gadget/Field Test"'
refused "the operator claims it into other" 409 device_claimed POST /v1/tenants/other/devices "$(body device_id="$DEV")"
msg_operator=$(jq_ 'j["error"]["message"]')
API_TOKEN=$OLGA refused "olga claims it" 409 device_claimed POST /v1/tenants/other/devices "$(body device_id="$DEV")"
[ "$(jq_ 'j["error"]["message"]')" = "$msg_operator" ] && ok || fail "the refusal differs with who asks"
API_TOKEN=$BOB refused "a device id that is not one" 400 bad_request POST /v1/tenants/acme/devices "$(body device_id=1234)"
API_TOKEN=$BOB refused "a group that is not one" 400 bad_request POST /v1/tenants/acme/devices \
  "$(body device_id="$(printf '%064x' 5)" device_group=gadget/Nope)"
API_TOKEN=$CAROL call "devices of gadget/Field Test" 200 GET "/v1/tenants/acme/devices?device_group=$(urlenc 'gadget/Field Test')"
expect_json "that device" '[d["id"] for d in j["devices"]] == [E("DEV")]'
API_TOKEN=$CAROL call "devices of gadget/Beta" 200 GET "/v1/tenants/acme/devices?device_group=gadget/Beta"
expect_json "none" 'j["devices"] == []'
API_TOKEN=$BOB call "disable it" 200 PATCH "/v1/tenants/acme/devices/$DEV" '{"enabled": false}'
expect_json "disabled" 'j["enabled"] is False'
API_TOKEN=$BOB call "enable it" 200 PATCH "/v1/tenants/acme/devices/$DEV" '{"enabled": true}'
expect_json "enabled" 'j["enabled"] is True'
API_TOKEN=$BOB call "move it to Beta" 200 PATCH "/v1/tenants/acme/devices/$DEV" "$(body device_group=gadget/Beta)"
expect_json "in Beta" 'j["device_group"] == "gadget/Beta"'
API_TOKEN=$BOB call "out of any group" 200 PATCH "/v1/tenants/acme/devices/$DEV" '{"device_group": null}'
expect_json "in no group" 'j["device_group"] is None and j["product"] is None'
API_TOKEN=$OLGA refused "olga reads the device" 404 not_found GET "/v1/tenants/other/devices/$DEV"
API_TOKEN=$BOB refused "a Contributor releases it" 403 forbidden DELETE "/v1/tenants/acme/devices/$DEV"
API_TOKEN=$ALICE call "alice releases it" 204 DELETE "/v1/tenants/acme/devices/$DEV"
API_TOKEN=$ALICE refused "released: gone from acme" 404 not_found GET "/v1/tenants/acme/devices/$DEV"
API_TOKEN=$OLGA call "now olga claims it" 201 POST /v1/tenants/other/devices "$(body device_id="$DEV")"
API_TOKEN=$BOB refused "and acme cannot" 409 device_claimed POST /v1/tenants/acme/devices "$(body device_id="$DEV")"

# --- releases ------------------------------------------------------------------
M=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
export M
API_TOKEN=$BOB call "a release" 201 POST /v1/tenants/acme/releases "$(body kind=os name="rampart OS" version=1.0 measurement="${M^^}")"
expect_json "the release" 'j["kind"] == "os" and j["name"] == "rampart OS" and j["version"] == "1.0" and j["measurement"] == E("M") and j["revoked"] is False and j["revoked_at"] is None'
REL=$(jq_ 'j["id"]')
export REL
API_TOKEN=$BOB refused "the same measurement again" 409 conflict POST /v1/tenants/acme/releases "$(body kind=app name=x version=2 measurement="$M")"
API_TOKEN=$BOB refused "a kind that is none" 400 bad_request POST /v1/tenants/acme/releases "$(body kind=fw name=x version=2 measurement="$M")"
API_TOKEN=$BOB refused "a measurement that is none" 400 bad_request POST /v1/tenants/acme/releases "$(body kind=os name=x version=2 measurement=abc)"
API_TOKEN=$BOB call "revoke it by measurement" 200 POST "/v1/tenants/acme/releases/$M/revoke"
expect_json "revoked" 'j["id"] == E("REL") and j["revoked"] is True and j["revoked_at"] > 0'
API_TOKEN=$BOB call "revoke it again, by id" 200 POST "/v1/tenants/acme/releases/$REL/revoke"
expect_json "still revoked" 'j["revoked"] is True'
API_TOKEN=$OLGA refused "olga revokes acme's release" 404 not_found POST "/v1/tenants/other/releases/$REL/revoke"
API_TOKEN=$CAROL call "releases" 200 GET /v1/tenants/acme/releases
expect_json "one release" 'len(j["releases"]) == 1'

# --- users removed ------------------------------------------------------------
API_TOKEN=$ALICE refused "alice removes herself" 409 conflict DELETE /v1/tenants/acme/users/alice
API_TOKEN=$ALICE call "alice removes carol" 204 DELETE /v1/tenants/acme/users/carol
API_TOKEN=$CAROL refused "carol's token after" 401 unauthenticated GET /v1/whoami
API_TOKEN=$OLGA refused "olga removes bob" 404 not_found DELETE /v1/tenants/acme/users/bob

# --- the audit log --------------------------------------------------------------
API_TOKEN=$ALICE call "acme's audit log" 200 GET "/v1/tenants/acme/audit?limit=1000"
expect_json "every change of acme's, in order" '[a["action"] for a in reversed(j["audit"])] == ["tenant.update", "tenant.update", "user.add", "user.add", "user.add", "token.create", "token.create", "token.create", "token.create", "token.revoke", "token.create", "manufacturer.add", "manufacturer.remove", "manufacturer.add", "manufacturer.add", "product.create", "device_group.create", "device_group.update", "device.claim", "device.disable", "device.enable", "device.update", "device.update", "device.release", "release.add", "release.revoke", "user.remove"]'
expect_json "who: name and token id" 'any(a["actor"] == "alice (token %s)" % E("ALICE_ID") and a["action"] == "user.remove" for a in j["audit"]) and any(a["actor"] == "bob (token %s)" % E("BOB_ID") and a["action"] == "device.claim" for a in j["audit"]) and any(a["actor"] == "carol (token %s)" % E("CAROL_ID") and a["action"] == "token.revoke" for a in j["audit"])'
expect_json "from where" 'all(a["remote"].startswith("127.0.0.1:") for a in j["audit"])'
expect_json "what: the claim's target and detail" 'any(a["target"] == "device " + E("DEV") and json.loads(a["detail"])["device_group"] == "gadget/Field Test" for a in j["audit"] if a["action"] == "device.claim")'
expect_json "times in microseconds, newest first" 'all(a["at"] > 1700000000 * 10**6 for a in j["audit"]) and [a["at"] for a in j["audit"]] == sorted((a["at"] for a in j["audit"]), reverse=True)'
API_TOKEN=$OLGA call "other's audit log" 200 GET /v1/tenants/other/audit
expect_json "none of acme's" 'all(not a["actor"].startswith(("alice", "bob", "carol")) for a in j["audit"]) and any(a["action"] == "device.claim" for a in j["audit"])'
call "the service's audit log" 200 GET /v1/audit
expect_json "tenants, service CAs, the first operator" '{"operator.bootstrap", "tenant.create", "manufacturer.add", "manufacturer.remove"} <= {a["action"] for a in j["audit"]} and all(a["actor"].startswith(("admin (token ", "rampart-server")) for a in j["audit"])'

# --- bad bodies ---------------------------------------------------------------
head -c $((2 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big.json"
st=$(curl -sS --max-time 60 --cacert "$SERVER_CA" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
  --data-binary @"$T/big.json" -o "$T/http.body" -w '%{http_code}' "$SERVER_URL/v1/tenants" 2>/dev/null) || true
[ "$st" = 413 ] && ok || fail "a 2 MiB body answered '$st', expected 413"
server_alive "after an oversized body"
refused "a truncated object" 400 bad_json POST /v1/tenants '{"name": "x"'
refused "an array" 400 bad_json POST /v1/tenants '["x"]'
refused "an empty body" 400 bad_json POST /v1/tenants ''
refused "not UTF-8" 400 bad_json POST /v1/tenants $'{"name": "\xff\xfe"}'
refused "a NUL in a string" 400 bad_json POST /v1/tenants '{"name": "a\u0000b"}'
refused "deep nesting" 400 bad_json POST /v1/tenants "$(python3 -c 'print("{\"name\": \"d\", \"x\": " + "[" * 5000 + "]" * 5000 + "}")')"
server_alive "after malformed bodies"

# --- SQL metacharacters in every string field -------------------------------------
# Names may hold anything printable but '/'; other text anything printable.
export EVIL_NAME=$'Robert\'); DROP TABLE tenants;-- "q" \\ %s %% _ * ? $1 :v @v `id` || 1=1 ; \u00e9\u65e5'
export EVIL_TEXT=$'x\'); DELETE FROM devices; DROP TABLE audit; -- /* */ "; SELECT * FROM tokens WHERE \'\'=\'\' \\ $2'
export EVIL_GROUP="${EVIL_NAME}/${EVIL_NAME}"
call "a tenant with an evil name" 201 POST /v1/tenants "$(body name="$EVIL_NAME")"
expect_json "its name exactly" 'j["name"] == E("EVIL_NAME")'
EVIL_TENANT=$(jq_ 'j["id"]')
export EVIL_TENANT
EN=$(urlenc "$EVIL_NAME")
call "the evil tenant by its encoded name" 200 GET "/v1/tenants/$EN"
expect_json "by name" 'j["id"] == E("EVIL_TENANT")'
call "a user with an evil name" 201 POST "/v1/tenants/$EN/users" "$(body name="$EVIL_NAME" role=Administrator)"
expect_json "the user's name exactly" 'j["name"] == E("EVIL_NAME") and j["tenant"] == E("EVIL_NAME")'
call "a token with an evil label" 201 POST "/v1/tenants/$EN/users/$EN/tokens" "$(body label="$EVIL_TEXT")"
expect_json "the label exactly" 'j["label"] == E("EVIL_TEXT") and j["user"] == E("EVIL_NAME")'
EVIL_TOKEN=$(jq_ 'j["token"]')
API_TOKEN=$EVIL_TOKEN call "whoami with it" 200 GET /v1/whoami
expect_json "the evil user" 'j["user"] == E("EVIL_NAME") and j["tenant"] == E("EVIL_NAME")'
API_TOKEN=$EVIL_TOKEN call "a manufacturer with an evil name" 201 POST "/v1/tenants/$EN/manufacturers" "$(body name="$EVIL_TEXT" ca_pem="$(cat "$T/mca/ca.pem")")"
expect_json "the manufacturer's name exactly" 'j["name"] == E("EVIL_TEXT")'
API_TOKEN=$EVIL_TOKEN call "a product with an evil name and description" 201 POST "/v1/tenants/$EN/products" "$(body name="$EVIL_NAME" description="$EVIL_TEXT")"
expect_json "the product exactly" 'j["name"] == E("EVIL_NAME") and j["description"] == E("EVIL_TEXT")'
API_TOKEN=$EVIL_TOKEN call "a group with an evil name and description" 201 POST "/v1/tenants/$EN/products/$EN/device-groups" "$(body name="$EVIL_NAME" description="$EVIL_TEXT")"
expect_json "the group exactly" 'j["name"] == E("EVIL_NAME") and j["description"] == E("EVIL_TEXT") and j["product"] == E("EVIL_NAME")'
API_TOKEN=$EVIL_TOKEN call "the group changed with an evil description" 200 PATCH "/v1/tenants/$EN/products/$EN/device-groups/$EN" "$(body description="$EVIL_NAME$EVIL_TEXT")"
expect_json "the new description exactly" 'j["description"] == E("EVIL_NAME") + E("EVIL_TEXT")'
EDEV=$(printf '%064x' 99)
API_TOKEN=$EVIL_TOKEN call "a device claimed into the evil group" 201 POST "/v1/tenants/$EN/devices" "$(body device_id="$EDEV" device_group="$EVIL_GROUP")"
expect_json "its group reference exactly" 'j["device_group"] == E("EVIL_GROUP") and j["product"] == E("EVIL_NAME")'
API_TOKEN=$EVIL_TOKEN call "devices of the evil group" 200 GET "/v1/tenants/$EN/devices?device_group=$(urlenc "$EVIL_GROUP")"
expect_json "found by it" 'len(j["devices"]) == 1'
API_TOKEN=$EVIL_TOKEN call "moved to the evil group by PATCH" 200 PATCH "/v1/tenants/$EN/devices/$EDEV" "$(body device_group="$EVIL_GROUP")"
API_TOKEN=$EVIL_TOKEN call "a release with an evil name and version" 201 POST "/v1/tenants/$EN/releases" "$(body kind=app name="${EVIL_TEXT:0:120}" version="${EVIL_NAME:0:100}" measurement="$M")"
expect_json "the release exactly" 'j["name"] == E("EVIL_TEXT")[:120] and j["version"] == E("EVIL_NAME")[:100]'
API_TOKEN=$EVIL_TOKEN call "the evil tenant's audit" 200 GET "/v1/tenants/$EN/audit"
expect_json "the texts in the audit detail exactly" 'any(json.loads(a["detail"] or "{}").get("description") == E("EVIL_TEXT") for a in j["audit"])'
API_TOKEN=$EVIL_TOKEN call "the evil tenant's products" 200 GET "/v1/tenants/$EN/products"
expect_json "listed exactly" 'j["products"][0]["name"] == E("EVIL_NAME") and any(g["name"] == E("EVIL_NAME") for g in j["products"][0]["device_groups"])'
[ "$(tables "$TABLES_SQL")" = "$tables_before" ] && ok || fail "the tables changed: $tables_before -> $(tables "$TABLES_SQL")"
call "every tenant is still there" 200 GET /v1/tenants
expect_json "three tenants" 'len(j["tenants"]) == 3'
API_TOKEN=$OLGA call "other's device is still there" 200 GET "/v1/tenants/other/devices/$DEV"
[ "$(store_sql "$D" "SELECT count(*) FROM audit")" -gt 40 ] && ok || fail "the audit table lost rows"

# --- the metrics saw it all --------------------------------------------------------
API_TOKEN= call "metrics" 200 GET /metrics
grep -q 'rampart_http_requests_total{route="/v1/tenants/{tenant}/devices",method="POST",status="409"}' "$T/http.body" && ok ||
  fail "no 409s of the device claims in /metrics: $(grep 'route="/v1/tenants/{tenant}/devices"' "$T/http.body" | head -5)"

server_alive "at the end"
stop_server
finish
