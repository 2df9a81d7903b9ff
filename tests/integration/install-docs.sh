#!/bin/bash
# tests/integration/install-docs.sh — what gets installed for operators is
# complete and correct:
#  - every config key the loader accepts (the .key fields of the key
#    table in lib/registry_keys.c, the loader's own whitelist) is
#    documented in wrg.conf(5) and present in conf/wrg.conf.example;
#  - every default wrg.conf(5) states equals the default the real loader
#    fills in (wrg.fcgi --check-config on a minimal config);
#  - the example config, and its commented-out advanced runtimes once
#    uncommented (https + tls + token_file, unix + token_env), are
#    accepted by wrg.fcgi --check-config; a typo'd key is not;
#  - the three man pages render without groff warnings and name the
#    configured paths, not placeholders;
#  - the web server snippets as generated for installation (configured
#    paths, port 80) pass the servers' own config tests (nginx -t,
#    apache2 -t, lighttpd -tt), wrapped in a minimal main config.
. "$top_srcdir/tests/lib.sh"

PY=${PYTHON3_SYS:-/usr/bin/python3}
FCGI="$top_builddir/src/wrg.fcgi"
[ -x "$FCGI" ] || { echo "wrg.fcgi not built" >&2; exit 1; }
MAN5="$top_builddir/man/wrg.conf.5"
EXAMPLE="$top_srcdir/conf/wrg.conf.example"

for m in wrg.fcgi.8 wrg-wsproxy.8 wrg.conf.5; do
	f="$top_builddir/man/$m"
	t_check "$m is built" test -s "$f"
	if command -v groff >/dev/null 2>&1; then
		clean_render() {
			groff -man -Tutf8 -z -wall "$1" >"$T_DIR/groff.log" 2>&1
			cat "$T_DIR/groff.log"
			[ ! -s "$T_DIR/groff.log" ]
		}
		t_check "$m renders without warnings" clean_render "$f"
	fi
	t_check "$m has no unfilled placeholders" \
	    eval "! grep -n '@[A-Za-z_]*@' '$f'"
done

t_check "example config passes --check-config" \
    sh -c "'$FCGI' --check-config -c '$EXAMPLE' >'$T_DIR/example.out' 2>&1"

# The advanced runtimes of the example, uncommented, with their files
# created under the scratch dir.
mkdir -p "$T_DIR/etc/wrg/tokens" "$T_DIR/etc/wrg/tls"
echo "example-token" >"$T_DIR/etc/wrg/tokens/build-farm.token"
chmod 0600 "$T_DIR/etc/wrg/tokens/build-farm.token"
for f in runtime-ca.pem wrg-client.pem wrg-client.key; do
	echo "placeholder" >"$T_DIR/etc/wrg/tls/$f"
done
sed -e '/^[[:space:]]*\/\*[[:space:]]*$/d' \
    -e '/^[[:space:]]*\*\/[[:space:]]*$/d' \
    -e "s|\"/etc/wrg/|\"$T_DIR/etc/wrg/|g" \
    "$EXAMPLE" >"$T_DIR/full.conf"
t_check "uncommenting the advanced example adds runtimes" \
    test "$(grep -c '"id":' "$T_DIR/full.conf")" -eq 3
full_ok() {
	WRG_TOKEN_CI=ci-token "$FCGI" --check-config -c "$T_DIR/full.conf" \
	    >"$T_DIR/full.out" 2>&1 || { cat "$T_DIR/full.out"; return 1; }
	grep -q '"build-farm"' "$T_DIR/full.out" &&
	    grep -q '"ca_file"' "$T_DIR/full.out"
}
t_check "full example (https+tls, unix, token_file/env) passes" full_ok
t_check "the token never appears in --check-config output" \
    eval "! grep -q -e example-token -e ci-token '$T_DIR/full.out'"
sed -e 's/"max_connections"/"max_conections"/' "$EXAMPLE" >"$T_DIR/typo.conf"
t_check "a misspelled key is refused, naming the key" \
    sh -c "! '$FCGI' --check-config -c '$T_DIR/typo.conf' \
    >'$T_DIR/typo.out' 2>&1 && grep -q max_conections '$T_DIR/typo.out'"

# Defaults as the loader fills them in.
cat >"$T_DIR/min.conf" <<'CONF'
{ "runtimes": [ { "id": "r", "base_url": "https://127.0.0.1:1",
                  "tls": {} } ] }
CONF
"$FCGI" --check-config -c "$T_DIR/min.conf" >"$T_DIR/min.out" 2>&1

cat >"$T_DIR/keys.py" <<'PY'
import json, re, sys
src, man, example, printed = sys.argv[1:5]
fails = 0
def fail(msg):
    global fails
    fails += 1
    print("FAIL: " + msg)

# The loader's whitelist of keys: the key table.
code = open(src).read()
keys = set(re.findall(r'\.key\s*=\s*"([a-z_]+)"', code))
if len(keys) < 20:
    fail("found only %d keys in %s" % (len(keys), src))

# Tags of .TP entries in the man page: "key[, key...] (type, default X)".
text = open(man).read().replace('\\-', '-')
documented = {}
lines = text.split('\n')
for i, line in enumerate(lines[:-1]):
    if line.strip() != '.TP':
        continue
    tag = re.sub(r'^\.(BR|B|IR|I)\s+', '', lines[i + 1].strip())
    tag = tag.replace('" "', '').replace('"', '').replace('\\(dq', '"')
    m = re.match(r'([a-z_]+(?:\s*,\s*[a-z_]+)*)\s*(\((.*)\))?\s*$', tag)
    if not m:
        continue
    default = None
    if m.group(3):
        d = re.search(r'default:?\s*(.*)$', m.group(3))
        if d:
            default = d.group(1).strip()
    for k in re.split(r'\s*,\s*', m.group(1)):
        documented[k] = default

for k in sorted(keys):
    if k not in documented:
        fail("key %s is not documented in wrg.conf(5)" % k)
ex = open(example).read()
for k in sorted(keys):
    if '"%s"' % k not in ex:
        fail("key %s is missing from wrg.conf.example" % k)

# Defaults stated in the man page against the loader's.
p = json.load(open(printed))
leaves = {}
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if isinstance(v, (dict, list)) and v != []:
                walk(v)
            else:
                leaves.setdefault(k, v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(p)
checked = 0
for k, v in sorted(leaves.items()):
    if k not in keys:
        continue            # derived fields: config, transport, auth
    if k in ("id", "base_url"):
        continue            # required, set by the test config
    d = documented.get(k)
    if d is None:
        fail("wrg.conf(5) states no default for %s (loader: %s)" %
             (k, json.dumps(v)))
        continue
    want = json.dumps(v)
    if d != want and not (v is None and d.startswith("none")) \
            and not (v is None and d.startswith("the system")):
        fail("default of %s: man says %r, loader fills %s" % (k, d, want))
    checked += 1
print("keys in loader: %d, documented: %d, defaults compared: %d" %
      (len(keys), len([k for k in keys if k in documented]), checked))
if checked < 12:
    fail("only %d defaults compared" % checked)
sys.exit(1 if fails else 0)
PY
t_check "every key documented, every documented default right" \
    "$PY" "$T_DIR/keys.py" "$top_srcdir/lib/registry_keys.c" \
    "$top_srcdir/man/wrg.conf.5.in" "$EXAMPLE" "$T_DIR/min.out"

# ---- the installed web server snippets pass the servers' config tests --
NGINX_BIN=${NGINX:-}
[ -n "$NGINX_BIN" ] || NGINX_BIN=$(command -v nginx || echo /usr/sbin/nginx)
if [ -x "$NGINX_BIN" ]; then
	N="$T_DIR/nginx"
	mkdir -p "$N/logs"
	cp /etc/nginx/fastcgi_params /etc/nginx/mime.types "$N/"
	cat >"$N/nginx.conf" <<NGX
pid $N/nginx.pid;
error_log $N/logs/error.log;
events { }
http { include mime.types; include $top_builddir/conf/nginx/wrg.conf; }
NGX
	nginx_t() {
		env -u NGINX "$NGINX_BIN" -t -p "$N" -c "$N/nginx.conf" \
		    -e "$N/logs/startup.log" >"$N/t.log" 2>&1 ||
		    { cat "$N/t.log"; return 1; }
	}
	t_check "installed nginx snippet: nginx -t" nginx_t
fi
APACHE_BIN=${APACHE2:-}
[ -n "$APACHE_BIN" ] || APACHE_BIN=$(command -v apache2 || echo /usr/sbin/apache2)
if [ -x "$APACHE_BIN" ]; then
	A="$T_DIR/apache2"
	mkdir -p "$A"
	{
		for m in mpm_event authz_core authz_host mime dir proxy proxy_fcgi proxy_http \
		    headers; do
			echo "LoadModule ${m}_module /usr/lib/apache2/modules/mod_$m.so"
		done
		echo "ServerRoot $A"
		echo "PidFile $A/httpd.pid"
		echo "DefaultRuntimeDir $A"
		echo "ErrorLog $A/error.log"
		echo "Listen 127.0.0.1:1"
		echo "Include $top_builddir/conf/apache2/wrg.conf"
	} >"$A/apache2.conf"
	apache_t() {
		"$APACHE_BIN" -t -f "$A/apache2.conf" >"$A/t.log" 2>&1 ||
		    { cat "$A/t.log"; return 1; }
	}
	t_check "installed Apache snippet: apache2 -t" apache_t
fi
LIGHTTPD_BIN=${LIGHTTPD:-}
[ -n "$LIGHTTPD_BIN" ] || LIGHTTPD_BIN=$(command -v lighttpd || echo /usr/sbin/lighttpd)
if [ -x "$LIGHTTPD_BIN" ] && [ -f "$top_srcdir/conf/lighttpd/wrg-fcgi.conf" ]; then
	L="$T_DIR/lighttpd"
	mkdir -p "$L/www"
	E="$top_builddir/conf/examples/lighttpd"
	lighttpd_t() {
		local f=$1
		{
			echo "server.document-root = \"$L/www\""
			echo "server.port = 1"
			echo "server.bind = \"127.0.0.1\""
			echo "include \"$E/$f\""
			echo "include \"$E/wrg-wsproxy.conf\""
		} >"$L/$f.main"
		"$LIGHTTPD_BIN" -tt -f "$L/$f.main" >"$L/$f.log" 2>&1 ||
		    { cat "$L/$f.log"; return 1; }
	}
	t_check "installed lighttpd wrg-fcgi.conf: lighttpd -tt" \
	    lighttpd_t wrg-fcgi.conf
	t_check "installed lighttpd wrg-fcgi-binpath.conf: lighttpd -tt" \
	    lighttpd_t wrg-fcgi-binpath.conf
fi

t_done
