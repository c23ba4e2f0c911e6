#!/usr/bin/env bash
# `terraform validate` of examples/aws without downloading providers, from a local provider mirror
# (TF_PLUGIN_DIR, default /opt/tf-plugins). If the mirror lacks hashicorp/random, the copy validated here
# swaps the secrets module's random_password for a built-in terraform_data stand-in (same shape: a value per
# key); everything else — every AWS resource and argument — is validated as written.
# The committed .terraform.lock.hcl is used read-only there: a provider the lock does not pin, or a mirror package
# whose checksum differs from the lock's, fails the run. (The lock pins hashicorp/aws only: the one provider the
# offline mirror holds. The first online `terraform init` adds hashicorp/random to it; commit that.)
# Usage: validate-offline.sh [ROOT ...] (default: examples/aws and examples/aws-secondary when present).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
plugins="${TF_PLUGIN_DIR:-/opt/tf-plugins}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -R "$here/modules" "$here/examples" "$work/"
lockfile=()
if [ ! -d "$plugins/registry.terraform.io/hashicorp/random" ]; then
  lockfile=(-lockfile=readonly)
  python3 - "$work" <<'PY'
import re, sys
root = sys.argv[1]
p = f"{root}/modules/secrets/main.tf"
s = open(p).read()
s = re.sub(r'resource "random_password" "generated" \{.*?\n\}\n',
           'resource "terraform_data" "generated" {\n  for_each = var.generated\n  input    = "stub"\n}\n', s, flags=re.S)
s = s.replace("random_password.generated[each.key].result", "terraform_data.generated[each.key].output")
open(p, "w").write(s)
p = f"{root}/modules/secrets/outputs.tf"
s = open(p).read().replace("random_password.generated : k => p.result", "terraform_data.generated : k => p.output")
open(p, "w").write(s)
import glob
for p in [f"{root}/modules/secrets/versions.tf", *glob.glob(f"{root}/examples/*/versions.tf")]:
    s = open(p).read()
    s = re.sub(r'\n    random = \{.*?\n    \}', "", s, flags=re.S)
    open(p, "w").write(s)
PY
  echo "note: hashicorp/random not in $plugins; validating with a terraform_data stand-in for random_password" >&2
fi
roots=("$@")
if [ ${#roots[@]} -eq 0 ]; then
  for r in examples/aws examples/aws-secondary; do [ -d "$here/$r" ] && roots+=("$r"); done
fi
for r in "${roots[@]}"; do
  echo "== $r"
  cd "$work/$r"
  terraform init -backend=false -input=false -plugin-dir="$plugins" "${lockfile[@]}" >/dev/null
  terraform validate -no-color
done
