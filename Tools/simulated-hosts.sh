#!/usr/bin/env bash
# Simulated hosts for the cluster's network test: network namespaces NAME-0 … NAME-(N-1), each
# with one address, 198.18.0.(i+1)/24 (the range RFC 2544 sets aside for network tests), and a
# veth pair from each to a bridge in a namespace of its own (NAME-switch). The caller's own
# namespace gets no address and no route. Needs root. NAME is short (interface names are at most
# 15 characters).
#
#   Tools/simulated-hosts.sh up NAME N     make them (removing any left from before)
#   Tools/simulated-hosts.sh down NAME N   remove them (their interfaces go with them)
set -euo pipefail
command=${1:-} name=${2:-} count=${3:-}
if [ -z "$name" ] || [ -z "$count" ] || [ ${#name} -gt 10 ]; then
    echo "usage: Tools/simulated-hosts.sh up|down NAME N   (NAME at most 10 characters)" >&2
    exit 2
fi
down() {
    for ((i = 0; i < count; i++)); do ip netns del "$name-$i" 2>/dev/null || true; done
    ip netns del "$name-switch" 2>/dev/null || true
}
case "$command" in
up)
    down
    ip netns add "$name-switch"
    ip -n "$name-switch" link add br0 type bridge
    ip -n "$name-switch" link set br0 up
    for ((i = 0; i < count; i++)); do
        host=$name-$i
        ip netns add "$host"
        ip link add "${name}h$i" type veth peer name "${name}s$i"
        ip link set "${name}h$i" netns "$host"
        ip link set "${name}s$i" netns "$name-switch"
        ip -n "$name-switch" link set "${name}s$i" master br0 up
        ip -n "$host" addr add "198.18.0.$((i + 1))/24" dev "${name}h$i"
        ip -n "$host" link set "${name}h$i" up
        ip -n "$host" link set lo up
    done
    ;;
down) down ;;
*)
    echo "usage: Tools/simulated-hosts.sh up|down NAME N" >&2
    exit 2
    ;;
esac
