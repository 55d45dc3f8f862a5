#!/usr/bin/env bash
# Makes the private CA and the certificates an Accord set runs TLS with (docs/OPERATIONS.md,
# "TLS"), with openssl. Keys are EC P-256, files PEM, keys readable by their owner only.
#
#   Tools/tls.sh init DIR        a CA (DIR/ca.pem, DIR/ca.key) and a certificate for each of
#                                gateway, intake, qualification, supervision and client
#                                (DIR/NAME.pem, DIR/NAME.key); what exists already is kept.
#   Tools/tls.sh issue DIR NAME  a new certificate and key for NAME from DIR's CA, replacing
#                                DIR/NAME.pem and DIR/NAME.key: a rotation (the running process
#                                takes it within 5 seconds).
#
# Each certificate's common name is NAME, the component it is for: a service tells which peer
# calls it by that name, and a caller checks that it reached the service it meant by it, at
# whatever address (so a service's certificate names nothing else). The gateway's, reached by
# its address, also names localhost, 127.0.0.1, ::1 and each of ACCORD_TLS_HOSTS (a
# comma-separated list of DNS names and IP addresses) for hosts beyond loopback. ACCORD_TLS_DAYS sets how long a certificate is valid (default 365; a
# negative number makes one that has already expired, for tests); the CA is valid ten years.
set -euo pipefail
usage() { echo "usage: Tools/tls.sh init DIR | Tools/tls.sh issue DIR NAME" >&2; exit 64; }
command=${1:-}
dir=${2:-}
[ -n "$command" ] && [ -n "$dir" ] || usage
command -v openssl > /dev/null || { echo "tls.sh: openssl is not installed (apt-get install openssl)" >&2; exit 1; }
days=${ACCORD_TLS_DAYS:-365}
[[ "$days" =~ ^-?[0-9]+$ ]] && [ "$days" -ne 0 ] || { echo "tls.sh: ACCORD_TLS_DAYS=$days is not a whole number of days other than 0" >&2; exit 64; }
umask 077
mkdir -p "$dir"

ca() {
    [ -s "$dir/ca.pem" ] && [ -s "$dir/ca.key" ] && return
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
        -subj "/O=Accord/CN=Accord private CA $(date -u +%Y%m%d%H%M%S) $(openssl rand -hex 4)" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -keyout "$dir/ca.key.tmp" -out "$dir/ca.pem.tmp" 2> "$dir/openssl.log" \
        || { cat "$dir/openssl.log" >&2; exit 1; }
    mv "$dir/ca.key.tmp" "$dir/ca.key"
    mv "$dir/ca.pem.tmp" "$dir/ca.pem"
    chmod 644 "$dir/ca.pem"
    rm -f "$dir/openssl.log"
    echo "tls.sh: made the CA $dir/ca.pem"
}

issue() {
    local name=$1
    [[ "$name" =~ ^[a-z0-9][a-z0-9.-]*$ ]] || { echo "tls.sh: $name is not a name of lower-case letters, digits, dots and dashes" >&2; exit 64; }
    [ -s "$dir/ca.pem" ] || { echo "tls.sh: $dir has no CA: run Tools/tls.sh init $dir first" >&2; exit 1; }
    local names="DNS:$name" host hosts=()
    if [ "$name" = gateway ]; then
        names+=",DNS:localhost,IP:127.0.0.1,IP:::1"
        IFS=, read -ra hosts <<< "${ACCORD_TLS_HOSTS:-}"
    fi
    for host in "${hosts[@]}"; do
        [ -n "$host" ] || continue
        if [[ "$host" =~ ^[0-9.]+$ || "$host" == *:* ]]; then names+=",IP:$host"; else names+=",DNS:$host"; fi
    done
    local extensions="$dir/$name.ext"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=$names" > "$extensions"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/O=Accord/CN=$name" \
        -keyout "$dir/$name.key.tmp" -out "$dir/$name.csr" 2> "$dir/openssl.log" \
        && openssl x509 -req -sha256 -in "$dir/$name.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
            -CAcreateserial -days "$days" -extfile "$extensions" -out "$dir/$name.pem.tmp" 2>> "$dir/openssl.log" \
        || { cat "$dir/openssl.log" >&2; exit 1; }
    chmod 644 "$dir/$name.pem.tmp"
    # The key first: a reload that sees the new certificate finds its key already in place.
    mv "$dir/$name.key.tmp" "$dir/$name.key"
    mv "$dir/$name.pem.tmp" "$dir/$name.pem"
    rm -f "$dir/$name.csr" "$extensions" "$dir/openssl.log"
    echo "tls.sh: issued $dir/$name.pem (CN=$name, valid $days days)"
}

case "$command" in
init)
    [ $# -eq 2 ] || usage
    ca
    for name in gateway intake qualification supervision client; do
        [ -s "$dir/$name.pem" ] && [ -s "$dir/$name.key" ] || issue "$name"
    done
    ;;
issue)
    [ $# -eq 3 ] || usage
    issue "$3"
    ;;
*) usage ;;
esac
