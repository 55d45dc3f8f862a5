#!/usr/bin/env bash
# Regenerates the code made from proto/accord/v1/*.proto:
#   Shared/CAccordProto/         the C structs and descriptors (protoc-c), descriptor accessors
#   Shared/AccordMessages/Generated/   the Swift value types (proto/gen_swift.py)
# Usage: proto/generate.sh          write the generated files
#        proto/generate.sh --check  exit 1 when the committed files differ from a fresh run
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

for tool in protoc-c python3; do
    if ! command -v "$tool" >/dev/null; then
        echo "generate.sh: $tool is missing (apt-get install protobuf-c-compiler python3)" >&2
        exit 2
    fi
done

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
mkdir -p "$out/c/include" "$out/c/accord/v1" "$out/swift" "$out/protoc"

protoc-c --proto_path=proto --c_out="$out/protoc" proto/accord/v1/*.proto
# protoc-c's headers sit beside its sources (found through the target's header search path), so
# that the module's public include/ holds only the umbrella and the descriptor accessors.
cp "$out"/protoc/accord/v1/*.pb-c.[ch] "$out/c/accord/v1/"
python3 proto/gen_swift.py proto "$out/swift" "$out/c"

c_dir=Shared/CAccordProto
swift_dir=Shared/AccordMessages/Generated
if [ "${1:-}" = "--check" ]; then
    status=0
    diff -r "$out/c" "$c_dir" >/dev/null || { echo "generate.sh: $c_dir is stale" >&2; diff -r "$out/c" "$c_dir" | head -20 >&2; status=1; }
    diff -r "$out/swift" "$swift_dir" >/dev/null || { echo "generate.sh: $swift_dir is stale" >&2; diff -r "$out/swift" "$swift_dir" | head -20 >&2; status=1; }
    [ $status -eq 0 ] && echo "generate.sh: generated code is fresh"
    exit $status
fi
rm -rf "$c_dir" "$swift_dir"
mkdir -p "$c_dir" "$swift_dir"
cp -r "$out/c/." "$c_dir/"
cp -r "$out/swift/." "$swift_dir/"
echo "generate.sh: wrote $c_dir and $swift_dir"
