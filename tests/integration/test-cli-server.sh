#!/usr/bin/env bash
# The rampart CLI against the real rampart-server (SQLite store, real TLS):
# login and the profile, tenant selection, every management command in
# table and JSON form, the errors a user meets (server not running, wrong CA
# file, bad token, a Reader writing, no tenant, malformed ids) with their
# hints, and a device's whole attestation through a real rampart-secmon
# (soft backend): refused while unclaimed, a certificate that openssl
# verifies against the downloaded tenant CA, mTLS with it, then disabled,
# revoked software and a released device refused, each with its reason.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
PY=/usr/bin/python3

# The profile lives here, and nowhere else the test does not own.
export RAMPART_CONFIG_DIR=$T/config
unset XDG_CONFIG_HOME
PROFILE=$RAMPART_CONFIG_DIR/profile.json

# jcheck KEY=VALUE...: the last command's stdout is JSON and each dotted key
# (list indexes as numbers, "#" for an array's length) has that value.
jcheck() {
  $PY - "$T/out" "$@" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
for a in sys.argv[2:]:
    k, v = a.split("=", 1)
    got = j
    for part in k.split("."):
        got = len(got) if part == "#" else got[int(part)] if isinstance(got, list) else got[part]
    if isinstance(got, bool):
        got = "true" if got else "false"
    if got is None:
        got = "null"
    if str(got) != v:
        sys.exit("%s is %r, expected %r" % (k, got, v))
EOF
}
expect_json() {
  local desc=$1; shift
  local msg
  if msg=$(jcheck "$@" 2>&1); then ok; else fail "$desc: $msg ($(head -c 300 "$T/out"))"; fi
}
# jget KEY: a value from the last command's JSON stdout.
jget() { $PY -c 'import json, sys; j = json.load(open(sys.argv[1]))
for p in sys.argv[2].split("."): j = j[int(p)] if isinstance(j, list) else j[p]
print(j)' "$T/out" "$1"; }

# --- the server ----------------------------------------------------------------
start_server "$T/srv"
URL=$SERVER_URL CA=$SERVER_CA ADMIN=$ADMIN_TOKEN_FILE

# --- help and usage ---------------------------------------------------------------
expect_ok "rampart --help lists the server groups" "$RAMPART" --help
for g in login tenant user token manufacturer ca-certificate product device-group release audit attestation; do
  expect_out "top help lists $g" "^  $g +"
done
expect_ok "tenant --help" "$RAMPART" tenant --help
for c in create list show select; do expect_out "tenant help lists $c" "^  $c +"; done
expect_ok "device --help" "$RAMPART" device --help
for c in show-identity attest whoami claim list show update disable enable release; do
  expect_out "device help lists $c" "^  $c +"
done
expect_ok "product create --help" "$RAMPART" product create --help
expect_out "product create help: usage" "^Usage: rampart product create NAME \[--description D\]"
expect_out "product create help: --tenant" "--tenant NAME"
expect_ok "login --help" "$RAMPART" login --help
expect_out "login help: usage" "^Usage: rampart login --server URL --ca-file F --token-file T"
expect_fail "unknown command" 2 "rampart tenant: unknown command 'frob'" "$RAMPART" tenant frob
expect_fail "unknown option" 2 "unknown option '--frob'" "$RAMPART" tenant list --frob
expect_fail "bad format" 2 "unknown output format 'xml'" "$RAMPART" tenant list -o xml
expect_fail "no server, no profile" 2 "no server: give --server URL --ca-file F --token-file T, or save them once with 'rampart login'" \
  "$RAMPART" tenant list
expect_fail "login without --ca-file" 2 "missing --ca-file F" "$RAMPART" login --server "$URL" --token-file "$ADMIN"
expect_fail "login without --token-file" 2 "missing --token-file T" "$RAMPART" login --server "$URL" --ca-file "$CA"
expect_fail "extra argument" 2 "unexpected argument 'x'" "$RAMPART" tenant list x --server "$URL"
expect_fail "missing argument" 2 "missing an argument: rampart product show NAME" "$RAMPART" product show --tenant t
[ ! -e "$PROFILE" ] && ok || fail "a failed command wrote a profile"

# --- connection errors, each with what to check -------------------------------------
free_port=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_fail "server not running" 1 \
  "^rampart: error: cannot connect to https://127\.0\.0\.1:$free_port: .*: is rampart-server running and listening there\?$" \
  "$RAMPART" login --server "https://127.0.0.1:$free_port" --ca-file "$CA" --token-file "$ADMIN"
expect_err "server not running: hint" "^hint: start rampart-server \(rampart-server --data-dir D --listen HOST:PORT\), or give --server the address it listens on$"
expect_ok "another CA" "$RAMPART" factory ca-create --dir "$T/ca"
expect_fail "wrong CA file" 1 \
  "^rampart: error: $URL: the server's certificate does not verify with the CA file $T/ca/ca\.pem \(.*\): is that file the server's DATA_DIR/tls/ca\.pem" \
  "$RAMPART" login --server "$URL" --ca-file "$T/ca/ca.pem" --token-file "$ADMIN"
expect_err "wrong CA file: hint" "^hint: give --ca-file the server's DATA_DIR/tls/ca\.pem"
expect_fail "CA file that is not PEM" 1 "the CA file $ADMIN: holds no PEM certificate" \
  "$RAMPART" login --server "$URL" --ca-file "$ADMIN" --token-file "$ADMIN"
expect_fail "missing CA file" 1 "the CA file: .*nothing\.pem: cannot open: No such file" \
  "$RAMPART" login --server "$URL" --ca-file "$T/nothing.pem" --token-file "$ADMIN"
expect_fail "http URL" 1 "server URL 'http://127\.0\.0\.1:1': must start with https://" \
  "$RAMPART" login --server http://127.0.0.1:1 --ca-file "$CA" --token-file "$ADMIN"
expect_fail "not a URL" 1 "server URL 'https://': not a URL with a host" \
  "$RAMPART" login --server https:// --ca-file "$CA" --token-file "$ADMIN"
(umask 077; printf 'rpt_%064d\n' 0 >"$T/bad.token")
expect_fail "bad token" 1 "^rampart: error: server refused: unauthenticated: .* \(HTTP 401\)$" \
  "$RAMPART" login --server "$URL" --ca-file "$CA" --token-file "$T/bad.token"
expect_err "bad token: hint" "^hint: the token in $T/bad\.token is not accepted \(unknown, revoked or expired\)"
cp "$ADMIN" "$T/loose.token"; chmod 644 "$T/loose.token"
expect_fail "token file others can read" 1 "loose\.token: group or others may read it \(mode 0644\).*chmod 600" \
  "$RAMPART" login --server "$URL" --ca-file "$CA" --token-file "$T/loose.token"
(umask 077; printf 'rpt_x\nrpt_y\n' >"$T/two.token")
expect_fail "token file of two lines" 1 "two\.token: expected one line holding an API token" \
  "$RAMPART" login --server "$URL" --ca-file "$CA" --token-file "$T/two.token"
[ ! -e "$PROFILE" ] && ok || fail "a failed login wrote a profile"

# --- login and the profile ---------------------------------------------------------
pushd "$T/srv" >/dev/null
expect_ok "login (relative paths)" "$RAMPART" login --server "$URL/" --ca-file tls/ca.pem --token-file admin.token
popd >/dev/null
expect_line "login: server" out "Server:   $URL"
expect_line "login: user" out "User:     admin"
expect_line "login: role" out "Role:     Operator"
expect_line "login: no tenant" out "Tenant:   -"
expect_line "login: profile" out "Profile:  $PROFILE"
[ "$(stat -c %a "$PROFILE")" = 600 ] && ok || fail "profile mode $(stat -c %a "$PROFILE")"
[ "$(stat -c %a "$RAMPART_CONFIG_DIR")" = 700 ] && ok || fail "config dir mode $(stat -c %a "$RAMPART_CONFIG_DIR")"
cp "$PROFILE" "$T/out"
expect_json "profile: absolute paths, no trailing slash" server="$URL" ca_file="$CA" token_file="$ADMIN"
if grep -q rpt_ "$PROFILE"; then fail "the profile holds the token"; else ok; fi
expect_ok "login -o json" "$RAMPART" login --server "$URL" --ca-file "$CA" --token-file "$ADMIN" -o json
expect_json "login json" user=admin role=Operator tenant=null profile="$PROFILE" server="$URL"

# A profile the user does not control is refused, not used.
chmod 664 "$PROFILE"
expect_fail "group-writable profile" 1 "profile\.json: writable by group or others \(mode 0664\)" "$RAMPART" tenant list
expect_err "group-writable profile: hint" "^hint: fix the file's owner or mode"
chmod 600 "$PROFILE"
cp "$PROFILE" "$T/profile.good"
printf '{"server": ' >"$PROFILE"
expect_fail "malformed profile" 1 "profile\.json: line 1: " "$RAMPART" tenant list
expect_err "malformed profile: hint" "remove it and run 'rampart login' again"
expect_ok "options given: the broken profile is not read" \
  "$RAMPART" tenant list --server "$URL" --ca-file "$CA" --token-file "$ADMIN"
cp "$T/profile.good" "$PROFILE"

# --- tenants -------------------------------------------------------------------------------
expect_fail "no tenant selected" 2 "^rampart product list: no tenant: give --tenant NAME, or choose one with 'rampart tenant select NAME'$" \
  "$RAMPART" product list
expect_ok "tenant create" "$RAMPART" tenant create acme --allow-development
expect_line "tenant create: name" out "Name:              acme"
expect_line "tenant create: development" out "Allow development: yes"
expect_out "tenant create: CA fingerprint" "^CA fingerprint:    [0-9a-f]{64}$"
expect_ok "tenant create -o json" "$RAMPART" tenant create other -o json
expect_json "tenant create json" name=other allow_development=false
other_id=$(jget id)
expect_fail "tenant create twice" 1 "server refused: conflict: .*\(HTTP 409\)" "$RAMPART" tenant create acme
expect_ok "tenant list" "$RAMPART" tenant list
expect_out "tenant list: header" "^NAME +ID +DEVELOPMENT +CREATED$"
expect_out "tenant list: acme" "^acme +[0-9a-f]{32} +yes +[0-9-]{10}T[0-9:]{8}Z$"
expect_out "tenant list: other" "^other +$other_id +no "
expect_ok "tenant list -o json" "$RAMPART" tenant list -o json
expect_json "tenant list json" tenants.#=2 tenants.0.name=acme tenants.1.name=other
expect_fail "tenant show: which?" 2 "which tenant\? give NAME" "$RAMPART" tenant show
expect_ok "tenant show by id" "$RAMPART" tenant show "$other_id"
expect_line "tenant show by id: name" out "Name:              other"
expect_fail "tenant show: unknown" 1 "server refused: not_found: .*\(HTTP 404\)" "$RAMPART" tenant show nosuch
expect_err "tenant show: unknown: hint" "^hint: check the name or id"
expect_fail "tenant select: unknown" 1 "server refused: not_found" "$RAMPART" tenant select nosuch
expect_ok "tenant select" "$RAMPART" tenant select acme
expect_out "tenant select: says so" "^Selected tenant acme \(id [0-9a-f]{32}\)"
cp "$PROFILE" "$T/out"
expect_json "profile: tenant" tenant=acme server="$URL"
[ "$(stat -c %a "$PROFILE")" = 600 ] && ok || fail "profile mode after select $(stat -c %a "$PROFILE")"
expect_ok "tenant show (selected)" "$RAMPART" tenant show -o json
expect_json "tenant show json" name=acme allow_development=true
acme_id=$(jget id)
expect_ok "--tenant overrides the selection" "$RAMPART" tenant show --tenant other -o json
expect_json "--tenant other" name=other
expect_ok "tenant update" "$RAMPART" tenant update other --allow-development yes
expect_line "tenant update: development" out "Allow development: yes"
expect_fail "tenant update: bad value" 2 "--allow-development: expected yes or no, got 'maybe'" \
  "$RAMPART" tenant update --allow-development maybe
expect_fail "tenant update: nothing" 2 "nothing to change" "$RAMPART" tenant update
# Login again keeps an operator's selection on the same server.
expect_ok "login again" "$RAMPART" login --server "$URL" --ca-file "$CA" --token-file "$ADMIN"
expect_line "login again: tenant kept" out "Tenant:   acme"

# --- users and tokens -----------------------------------------------------------------------
expect_ok "user add" "$RAMPART" user add alice --role administrator
expect_line "user add: role" out "Role:    Administrator"
expect_line "user add: tenant" out "Tenant:  acme"
expect_ok "user add -o json" "$RAMPART" user add rita --role Reader -o json
expect_json "user add json" name=rita role=Reader tenant=acme
expect_ok "user add (contributor)" "$RAMPART" user add carl --role contributor
expect_fail "user add: bad role" 2 "--role: expected Administrator, Contributor or Reader, got 'Operator'" \
  "$RAMPART" user add bob --role Operator
expect_fail "user add: no role" 2 "missing --role R" "$RAMPART" user add bob
expect_ok "user list" "$RAMPART" user list
expect_out "user list: header" "^NAME +ROLE +ID +TENANT +CREATED$"
expect_out "user list: rita" "^rita +Reader +[0-9a-f]{32} +acme "
expect_ok "user list -o json" "$RAMPART" user list -o json
expect_json "user list json" users.#=3

expect_ok "token create --save-to" "$RAMPART" token create --user rita --label reader --save-to "$T/rita.token"
expect_out "token create: saved" "^Created token [0-9a-f]{32}; saved it to $T/rita\.token \(mode 0600\)\.$"
[ "$(stat -c %a "$T/rita.token")" = 600 ] && ok || fail "token file mode $(stat -c %a "$T/rita.token")"
grep -qxE 'rpt_[0-9a-f]{64}' "$T/rita.token" && ok || fail "token file: $(cat "$T/rita.token")"
expect_fail "token create --save-to an existing file" 1 "rita\.token already exists" \
  "$RAMPART" token create --user rita --save-to "$T/rita.token"
expect_ok "token create (table)" "$RAMPART" token create --user carl --expires-days 30
expect_out "token create: the secret" "^Token:   rpt_[0-9a-f]{64}$"
expect_err "token create: shown once" "never shows it again"
sed -n 's/^Token: *//p' "$T/out" >"$T/carl.token"; chmod 600 "$T/carl.token"
expect_ok "token create -o json" "$RAMPART" token create --label mine -o json
expect_json "token create json" user=admin label=mine revoked_at=null
[[ $(jget token) =~ ^rpt_[0-9a-f]{64}$ ]] && ok || fail "json token: $(jget token)"
admin2_id=$(jget id)
expect_fail "token create: bad days" 2 "--expires-days: expected a whole number from 1 to 36500, got '0'" \
  "$RAMPART" token create --expires-days 0
expect_ok "token list (the tenant's)" "$RAMPART" token list
expect_out "token list: header" "^ID +USER +LABEL +CREATED +EXPIRES +REVOKED +LAST USED$"
expect_out "token list: rita's" "^[0-9a-f]{32} +rita +reader "
expect_ok "token list -o json" "$RAMPART" token list -o json
expect_json "token list json" tokens.#=2
rita_token_id=$($PY -c 'import json, sys; print([t["id"] for t in json.load(open(sys.argv[1]))["tokens"] if t["user"] == "rita"][0])' "$T/out")
expect_ok "token list --mine" "$RAMPART" token list --mine -o json
expect_json "token list --mine json" tokens.#=2 tokens.0.user=admin
if grep -q rpt_ "$T/out"; then fail "token list shows a secret"; else ok; fi
expect_ok "token revoke (own)" "$RAMPART" token revoke "$admin2_id"
expect_line "token revoke: says so" out "Revoked token $admin2_id."

# A Reader reads, and may not write.
expect_ok "Reader reads" "$RAMPART" product list --token-file "$T/rita.token"
expect_fail "Reader writes" 1 "^rampart: error: server refused: forbidden: .*\(HTTP 403\)$" \
  "$RAMPART" product create nope --token-file "$T/rita.token"
expect_err "Reader writes: hint" "^hint: your token's user may not do this"
expect_fail "Contributor adds a user" 1 "server refused: forbidden" \
  "$RAMPART" user add eve --role Reader --token-file "$T/carl.token"

# Malformed ids never reach the server.
expect_fail "token revoke: malformed id" 2 "'xyz' is not a token id: expected 32 hex digits" "$RAMPART" token revoke xyz
expect_fail "manufacturer remove: malformed id" 2 "'12' is not a manufacturer id" "$RAMPART" manufacturer remove 12
expect_fail "device show: malformed id" 2 "'abc' is not a device id: expected 64 hex digits" "$RAMPART" device show abc
expect_fail "device claim: malformed id" 2 "is not a device id" "$RAMPART" device claim "$(printf '%063d' 0)g"
expect_fail "release revoke: malformed id" 2 "'zz' is not a release id \(32 hex digits\) or measurement" \
  "$RAMPART" release revoke zz
expect_fail "attestation list: malformed device" 2 "'1' is not a device id" "$RAMPART" attestation list --device 1
expect_fail "audit list: bad limit" 2 "--limit: expected a whole number from 1 to 1000, got '1001'" \
  "$RAMPART" audit list --limit 1001

# A revoked token stops working.
expect_ok "token revoke (rita's, as operator)" "$RAMPART" token revoke "${rita_token_id^^}"
expect_fail "revoked token" 1 "server refused: unauthenticated: .*\(HTTP 401\)" \
  "$RAMPART" product list --token-file "$T/rita.token"
expect_ok "user remove" "$RAMPART" user remove carl
expect_line "user remove: says so" out "Removed user carl from tenant acme; their tokens are revoked."
expect_fail "removed user's token" 1 "server refused: unauthenticated" "$RAMPART" product list --token-file "$T/carl.token"
expect_ok "user remove -o json" "$RAMPART" user remove rita -o json
expect_json "user remove json" user=rita removed=true

# --- products and device groups --------------------------------------------------------------
expect_ok "product create" "$RAMPART" product create widget --description "A widget"
expect_line "product create: groups" out "Device groups: Development, Field Test, Field Test OS Evaluation, Production, Production OS Evaluation"
expect_line "product create: description" out "Description:   A widget"
expect_ok "product create -o json" "$RAMPART" product create gadget -o json
expect_json "product create json" name=gadget device_groups.#=5
expect_ok "product list" "$RAMPART" product list
expect_out "product list: header" "^NAME +ID +GROUPS +CREATED +DESCRIPTION$"
expect_out "product list: widget" "^widget +[0-9a-f]{32} +5 +.* +A widget$"
expect_ok "product list -o json" "$RAMPART" product list -o json
expect_json "product list json" products.#=2
expect_ok "product show" "$RAMPART" product show widget -o json
expect_json "product show json" name=widget description="A widget"
expect_fail "product show: unknown" 1 "server refused: not_found" "$RAMPART" product show nosuch
expect_fail "product with a control character" 1 "server refused: bad_request" \
  "$RAMPART" product create "$(printf 'bad\033[31mname')"
expect_no_controls "product with a control character: nothing raw"

expect_ok "device-group list" "$RAMPART" device-group list --product widget
expect_out "device-group list: header" "^NAME +UPDATE POLICY +ID +DESCRIPTION$"
expect_out "device-group list: Development" "^Development +No3rdPartyAppUpdates +[0-9a-f]{32} "
expect_ok "device-group list -o json" "$RAMPART" device-group list --product widget -o json
expect_json "device-group list json" device_groups.#=5
expect_ok "device-group create" "$RAMPART" device-group create --product widget Canary --update-policy NoUpdates \
  --description "first to try"
expect_line "device-group create: policy" out "Update policy: NoUpdates"
expect_line "device-group create: product" out "Product:       widget"
expect_ok "device-group show -o json" "$RAMPART" device-group show --product widget Canary -o json
expect_json "device-group show json" name=Canary update_policy=NoUpdates description="first to try"
expect_ok "device-group update" "$RAMPART" device-group update --product widget Canary --update-policy UpdateAll
expect_line "device-group update: policy" out "Update policy: UpdateAll"
expect_line "device-group update: description kept" out "Description:   first to try"
expect_ok "device-group update -o json" "$RAMPART" device-group update --product widget Canary --description later -o json
expect_json "device-group update json" update_policy=UpdateAll description=later
expect_fail "device-group: bad policy" 2 "--update-policy: expected UpdateAll, No3rdPartyAppUpdates or NoUpdates, got 'Some'" \
  "$RAMPART" device-group create --product widget X --update-policy Some
expect_fail "device-group: no product" 2 "missing --product P" "$RAMPART" device-group list
expect_fail "device-group update: nothing" 2 "nothing to change" "$RAMPART" device-group update --product widget Canary

# --- manufacturer CAs and the tenant CA ----------------------------------------------------------
expect_ok "manufacturer add" "$RAMPART" manufacturer add --ca "$T/ca/ca.pem" --name Factory
expect_line "manufacturer add: name" out "Name:        Factory"
expect_line "manufacturer add: scope" out "Scope:       tenant"
expect_out "manufacturer add: fingerprint" "^Fingerprint: [0-9a-f]{64}$"
expect_ok "manufacturer list" "$RAMPART" manufacturer list
expect_out "manufacturer list: header" "^ID +NAME +SCOPE +NOT AFTER +SUBJECT$"
expect_out "manufacturer list: Factory" "^[0-9a-f]{32} +Factory +tenant "
expect_ok "another CA, service-wide" "$RAMPART" factory ca-create --dir "$T/ca2"
expect_ok "manufacturer add --service -o json" "$RAMPART" manufacturer add --ca "$T/ca2/ca.pem" --service -o json
expect_json "manufacturer add --service json" scope=service
svc_id=$(jget id)
expect_ok "manufacturer list --service" "$RAMPART" manufacturer list --service -o json
expect_json "manufacturer list --service json" manufacturers.#=1 manufacturers.0.id="$svc_id"
expect_ok "manufacturer list: the tenant's and the service's" "$RAMPART" manufacturer list -o json
expect_json "manufacturer list json" manufacturers.#=2
expect_ok "manufacturer remove --service" "$RAMPART" manufacturer remove "$svc_id" --service
expect_out "manufacturer remove: says so" "^Removed manufacturer CA $svc_id"
expect_fail "manufacturer add: not a CA file" 1 "not a PEM file|server refused: bad_request" \
  "$RAMPART" manufacturer add --ca "$ADMIN"
expect_fail "manufacturer add: no --ca" 2 "missing --ca F" "$RAMPART" manufacturer add

expect_ok "ca-certificate download (stdout)" "$RAMPART" ca-certificate download
expect_out "ca-certificate: PEM" "^-----BEGIN CERTIFICATE-----$"
cp "$T/out" "$T/tenant-ca-stdout.pem"
expect_ok "ca-certificate download -o" "$RAMPART" ca-certificate download -o "$T/tenant-ca.pem"
expect_line "ca-certificate -o: says so" out "Wrote the CA certificate of tenant acme to $T/tenant-ca.pem"
expect_same "ca-certificate: the same both ways" "$T/tenant-ca.pem" "$T/tenant-ca-stdout.pem"
expect_ok "tenant CA: CN" openssl x509 -in "$T/tenant-ca.pem" -noout -subject
expect_out "tenant CA: its name" "rampart tenant acme"
expect_ok "ca-certificate download over itself" "$RAMPART" ca-certificate download -o "$T/tenant-ca.pem"
echo notes >"$T/notes.txt"
expect_fail "ca-certificate over another file" 1 "notes\.txt already exists and is not a PEM certificate" \
  "$RAMPART" ca-certificate download -o "$T/notes.txt"
expect_ok "ca-certificate --force" "$RAMPART" ca-certificate download -o "$T/notes.txt" --force

# --- a device: provisioned, its secmon running ---------------------------------------------------
expect_ok "factory provision" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/dev"
printf 'the OS image, version 1\n' >"$T/os.img"
start sm --state-dir "$T/dev" --measure os="$T/os.img"
expect_ok "show-identity" "$RAMPART" device show-identity --state-dir "$T/dev" -o json
DEV=$(jget device_id) M=$(jget measurement)
ATTEST=("$RAMPART" device attest --state-dir "$T/dev" --server "$URL" --ca-file "$CA")

expect_fail "attest: no -o" 2 "missing -o CERT" "${ATTEST[@]}"
expect_fail "attest: --nonce and --server" 2 "--nonce is for evidence alone" "${ATTEST[@]}" --nonce 0011223344556677 -o "$T/c"
expect_fail "attest: no --ca-file" 2 "missing --ca-file F" \
  "$RAMPART" device attest --state-dir "$T/dev" --server "$URL" -o "$T/c"
expect_fail "attest: unclaimed" 1 "^rampart: error: attestation: server refused: device_unclaimed: .*\(HTTP 403\)$" \
  "${ATTEST[@]}" -o "$T/cert.pem"
expect_err "attest: unclaimed: hint" "^hint: a Contributor of the tenant claims it first: rampart device claim"
[ ! -e "$T/cert.pem" ] && ok || fail "a refused attestation wrote a certificate"

expect_ok "device claim" "$RAMPART" device claim "${DEV^^}" --device-group widget/Development
expect_line "device claim: id" out "Id:               $DEV"
expect_line "device claim: group" out "Device group:     widget/Development"
expect_line "device claim: enabled" out "Enabled:          yes"
expect_ok "device claim again" "$RAMPART" device claim "$DEV" -o json
expect_json "device claim again json" id="$DEV" tenant=acme
expect_fail "device claim: bad group" 2 "--device-group: expected PRODUCT/GROUP" "$RAMPART" device claim "$DEV" --device-group x
expect_fail "device claim: unknown group" 1 "server refused: " "$RAMPART" device claim "$DEV" --device-group widget/Nope
expect_ok "device list" "$RAMPART" device list
expect_out "device list: header" "^ID +PRODUCT +DEVICE GROUP +ENABLED +LAST ATTESTED$"
expect_out "device list: the device" "^$DEV +widget +widget/Development +yes +-$"
expect_ok "device list --device-group" "$RAMPART" device list --device-group widget/Development -o json
expect_json "device list --device-group json" devices.#=1 devices.0.id="$DEV"
expect_ok "device list: another group" "$RAMPART" device list --device-group widget/Production -o json
expect_json "device list: another group json" devices.#=0
expect_ok "device update" "$RAMPART" device update "$DEV" --device-group widget/Canary
expect_line "device update: group" out "Device group:     widget/Canary"
expect_fail "device update: no group" 2 "missing --device-group" "$RAMPART" device update "$DEV"

# Unknown software, then the release accepted: a certificate.
expect_fail "attest: unknown software" 1 "server refused: software_unknown: " "${ATTEST[@]}" -o "$T/cert.pem"
expect_err "attest: unknown software: hint" "^hint: the tenant must accept the software it runs: rampart release add"
expect_fail "release add: bad measurement" 2 "--measurement: expected 64 hex digits" \
  "$RAMPART" release add --kind os --name rampart --version 1.0 --measurement 12
expect_fail "release add: bad kind" 2 "--kind: expected os or app, got 'fw'" \
  "$RAMPART" release add --kind fw --name rampart --version 1.0 --measurement "$M"
expect_fail "release add: no version" 2 "missing --version V" "$RAMPART" release add --kind os --name rampart --measurement "$M"
expect_ok "release add" "$RAMPART" release add --kind os --name rampart --version 1.0 --measurement "${M^^}"
expect_line "release add: measurement" out "Measurement: $M"
expect_line "release add: not revoked" out "Revoked:     no"
expect_ok "release add -o json" "$RAMPART" release add --kind app --name hello --version 2 --measurement "$(printf '%064d' 7)" -o json
expect_json "release add json" kind=app name=hello version=2 revoked=false
expect_ok "release list" "$RAMPART" release list
expect_out "release list: header" "^ID +KIND +NAME +VERSION +REVOKED +MEASUREMENT$"
expect_out "release list: os" "^[0-9a-f]{32} +os +rampart +1\.0 +no +$M$"
expect_ok "release list -o json" "$RAMPART" release list -o json
expect_json "release list json" releases.#=2

expect_ok "attest" "${ATTEST[@]}" -o "$T/cert.pem" --ca-out "$T/attest-ca.pem"
expect_line "attest: device id" out "Device id:    $DEV"
expect_line "attest: tenant" out "Tenant:       acme"
expect_out "attest: expiry" "^Expires:      [0-9-]{10}T[0-9:]{8}Z$"
expect_line "attest: certificate" out "Certificate:  $T/cert.pem"
expect_ok "the certificate verifies against the downloaded tenant CA" openssl verify -CAfile "$T/tenant-ca.pem" "$T/cert.pem"
expect_same "attest --ca-out is the tenant CA" "$T/attest-ca.pem" "$T/tenant-ca.pem"
identity "$T/dev" dev
[ "$(openssl x509 -in "$T/cert.pem" -noout -pubkey)" = "$(alias_key dev)" ] && ok || fail "the certificate is not for the Alias key"
expect_ok "certificate subject" openssl x509 -in "$T/cert.pem" -noout -subject -ext subjectAltName
expect_out "certificate: CN is the device id" "CN *= *$DEV"
expect_out "certificate: SAN names the tenant" "urn:rampart:tenant:$acme_id"
expect_ok "attest --json (over the old certificate)" "${ATTEST[@]}" -o "$T/cert.pem" --json
expect_json "attest json" device_id="$DEV" tenant=acme certificate="$T/cert.pem"
exp=$(jget expires_at)
[ "$exp" -gt "$(date +%s)" ] && ok || fail "expires_at $exp is not in the future"
expect_fail "attest over the server's CA file" 1 "is the server's CA file" "${ATTEST[@]}" -o "$CA" --force
echo notes >"$T/notes2.txt"
expect_fail "attest over a file of another kind" 1 "notes2\.txt already exists and is not a PEM certificate" \
  "${ATTEST[@]}" -o "$T/notes2.txt"

# The device API over mTLS: the Alias key in secmon, the issued certificate.
WHOAMI=("$RAMPART" device whoami --state-dir "$T/dev" --server "$URL" --ca-file "$CA")
expect_ok "device whoami" "${WHOAMI[@]}" --cert "$T/cert.pem"
expect_line "whoami: device id" out "Device id:           $DEV"
expect_line "whoami: tenant" out "Tenant:              acme"
expect_line "whoami: group" out "Device group:        widget/Canary"
expect_ok "device whoami -o json" "${WHOAMI[@]}" --cert "$T/cert.pem" -o json
expect_json "whoami json" device_id="$DEV" tenant=acme certificate_expires_at="$exp"
expect_fail "whoami with another device's certificate" 1 "is not for the Alias key" "${WHOAMI[@]}" --cert "$T/tenant-ca.pem"
expect_fail "whoami: neither --cert nor --state-dir" 2 "missing --state-dir D \(the session's certificate is kept there\), or --cert CERT" \
  "$RAMPART" device whoami --socket "$T/dev/secmon.sock" --server "$URL" --ca-file "$CA"

expect_ok "device show" "$RAMPART" device show "$DEV" -o json
expect_json "device show json" id="$DEV" enabled=true last_measurement="$M" device_group=widget/Canary
expect_ok "device show (table)" "$RAMPART" device show "$DEV"
expect_out "device show: last attested" "^Last attested:    [0-9-]{10}T[0-9:]{8}Z$"

# Disabled: refused, and its certificate opens nothing.
expect_ok "device disable" "$RAMPART" device disable "$DEV"
expect_line "device disable: enabled no" out "Enabled:          no"
expect_fail "attest: disabled" 1 "server refused: device_disabled: " "${ATTEST[@]}" -o "$T/cert.pem"
expect_err "attest: disabled: hint" "^hint: a Contributor of its tenant can enable it: rampart device enable"
expect_fail "whoami: disabled" 1 "server refused: .*\(HTTP 40[13]\)" "${WHOAMI[@]}" --cert "$T/cert.pem"
expect_ok "device enable" "$RAMPART" device enable "$DEV" -o json
expect_json "device enable json" enabled=true
expect_ok "attest after enable" "${ATTEST[@]}" -o "$T/cert.pem"

# Development roots of trust are the tenant's choice.
expect_ok "tenant: no development devices" "$RAMPART" tenant update --allow-development no
expect_fail "attest: development not allowed" 1 "server refused: development_not_allowed: " "${ATTEST[@]}" -o "$T/cert.pem"
expect_err "attest: development: hint" "rampart tenant update --allow-development yes"
expect_ok "tenant: development devices again" "$RAMPART" tenant update --allow-development yes

# Revoked software: refused with the reason.
expect_ok "release revoke (by measurement)" "$RAMPART" release revoke "$M"
expect_line "release revoke: revoked" out "Revoked:     yes"
expect_fail "attest: revoked software" 1 "server refused: software_revoked: " "${ATTEST[@]}" -o "$T/cert.pem"
expect_err "attest: revoked: hint" "^hint: the release the device runs was revoked"

# The record: accepted and refused attempts with their reasons.
expect_ok "attestation list" "$RAMPART" attestation list
expect_out "attestation list: header" "^AT +DEVICE +OUTCOME +REASON +REMOTE +DETAIL$"
for reason in software_unknown device_disabled development_not_allowed software_revoked; do
  expect_out "attestation list: $reason" "^[0-9T:Z-]+ +$DEV +refused +$reason +127\.0\.0\.1:"
done
expect_out "attestation list: accepted" "^[0-9T:Z-]+ +$DEV +accepted +- +127\.0\.0\.1:"
expect_ok "attestation list --device --limit -o json" "$RAMPART" attestation list --device "$DEV" --limit 2 -o json
expect_json "attestation list json" attestations.#=2 attestations.0.outcome=refused attestations.0.reason=software_revoked

# The audit log: who did what.
expect_ok "audit list" "$RAMPART" audit list
expect_out "audit list: header" "^AT +ACTOR +ACTION +TARGET +REMOTE +DETAIL$"
expect_out "audit list: the revocation" "^[0-9T:Z-]+ +admin.* +release\.revoke +"
expect_out "audit list: the claim" " +device\.claim +device $DEV +127\.0\.0\.1:"
expect_ok "audit list --limit 3 -o json" "$RAMPART" audit list --limit 3 -o json
expect_json "audit list json" audit.#=3 audit.0.action=release.revoke
expect_ok "audit list --service" "$RAMPART" audit list --service -o json
$PY -c 'import json, sys; a = [e["action"] for e in json.load(open(sys.argv[1]))["audit"]]; sys.exit(0 if "tenant.create" in a else a)' "$T/out" \
  && ok || fail "the service audit log lacks tenant.create"

# Released: another tenant may claim it; then this one may not.
expect_ok "device release" "$RAMPART" device release "$DEV"
expect_line "device release: says so" out "Released device $DEV: another tenant may claim it now."
expect_fail "device show: released" 1 "server refused: not_found: " "$RAMPART" device show "$DEV"
expect_ok "another tenant claims it" "$RAMPART" device claim "$DEV" --tenant other -o json
expect_json "another tenant claims it json" tenant=other
expect_fail "claimed by another tenant" 1 "server refused: device_claimed: .*\(HTTP 409\)" "$RAMPART" device claim "$DEV"
expect_err "claimed by another tenant: hint" "^hint: another tenant has claimed this device"
expect_fail "whoami: released" 1 "whoami|server refused" "${WHOAMI[@]}" --cert "$T/cert.pem"

# --- the profile only: a fresh shell works from anywhere ----------------------------------------
pushd / >/dev/null
expect_ok "from another directory" "$RAMPART" tenant show -o json
popd >/dev/null
expect_json "from another directory: acme" name=acme

stop_server
expect_fail "server stopped" 1 "cannot connect to $URL: .*is rampart-server running" "$RAMPART" tenant list
stop sm
finish
