#!/usr/bin/env bash
# CI's stack stage: no Docker engine runs here, so nothing is built or started. It checks what can be checked
# without one: both compose layouts pass `docker-compose config` (Debian's v1, whose schema Compose v2 also
# accepts), every file they mount and build from exists, every COPY source of the Dockerfiles exists,
# and the scaled Prometheus configuration is valid and scrapes exactly the scaled layout's services.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

step() { echo "== stack: $*"; }
problems=0
problem() { echo "FAILED: $*" >&2; problems=$((problems + 1)); }

install() {
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update
  $sudo apt-get install -y "$@"
}

step "docker-compose and promtool"
command -v docker-compose >/dev/null || install docker-compose
command -v promtool >/dev/null || install prometheus
echo "$(docker-compose version --short), $(promtool --version 2>&1 | head -1)"

base=(-f docker-compose.yml)
scaled=(-f docker-compose.yml -f docker-compose.scale.yml)
# An empty environment for the variables: the defaults are what is checked, whatever this shell has set.
for name in $(grep -ohE '\$\{[A-Z0-9_]+' docker-compose.yml docker-compose.scale.yml | sed 's/^\${//' | sort -u); do
  unset "$name"
done

step "docker-compose config -q (docker-compose.yml)"
docker-compose "${base[@]}" config -q || problem "docker-compose.yml does not pass docker-compose config"
step "docker-compose config -q (docker-compose.yml + docker-compose.scale.yml)"
docker-compose "${scaled[@]}" config -q || problem "docker-compose.scale.yml over docker-compose.yml does not pass docker-compose config"

# The resolved layouts name the Dockerfiles and the mounted files with absolute paths; each must exist. The
# scaled layout also must scrape every replica and driver it starts, and nothing else.
step "mounted files, Dockerfiles and the scaled scrape targets"
for layout in base scaled; do
  declare -n files="$layout"
  docker-compose "${files[@]}" config >"$here/.compose-$layout.yml" 2>/dev/null || continue
  python3 - "$here/.compose-$layout.yml" "$layout" <<'PY' || problems=$((problems + 1))
import os, sys, yaml

path, layout = sys.argv[1], sys.argv[2]
config = yaml.safe_load(open(path))
missing = []
for name, service in config["services"].items():
    build = service.get("build")
    if build:
        dockerfile = os.path.join(build["context"], build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(dockerfile):
            missing.append(f"{name}: build dockerfile {dockerfile}")
    for volume in service.get("volumes", []):
        source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source", "")
        if source.startswith("/") and not os.path.exists(source):
            missing.append(f"{name}: mounted {source}")
    # Grafana's home dashboard is a path inside the container: it must land in a mounted directory, on a file.
    home = service.get("environment", {}).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
    if home:
        mounts = [v.split(":")[:2] for v in service.get("volumes", []) if isinstance(v, str)]
        hosts = [src + home[len(dst):] for src, dst in mounts if home.startswith(dst.rstrip("/") + "/")]
        if not hosts or not os.path.isfile(hosts[0]):
            missing.append(f"{name}: home dashboard {hosts[0] if hosts else home + ' (in no mounted directory)'}")
for line in missing:
    print(f"FAILED: {layout} layout: {line} does not exist", file=sys.stderr)

bad = len(missing)
if layout == "scaled":
    prometheus = yaml.safe_load(open("grafana/prometheus/prometheus-scale.yml"))
    scraped = {(job["job_name"], target) for job in prometheus["scrape_configs"]
               for static in job.get("static_configs", []) for target in static["targets"]}
    services = set(config["services"])
    started = {("mockserve-load" if s.startswith("mockserve-load") else "mockserve", f"{s}:{9465 if s.startswith('mockserve-load') else 9464}")
               for s in services if s.startswith("mockserve")}
    for job, target in sorted(started - scraped):
        print(f"FAILED: prometheus-scale.yml does not scrape {target} (job {job}), a service of the scaled layout", file=sys.stderr)
        bad += 1
    for job, target in sorted(scraped - started):
        print(f"FAILED: prometheus-scale.yml scrapes {target} (job {job}), which the scaled layout does not start", file=sys.stderr)
        bad += 1
print(f"{layout}: {len(config['services'])} services checked")
sys.exit(1 if bad else 0)
PY
  rm -f "$here/.compose-$layout.yml"
done

step "promtool check config grafana/prometheus/prometheus-scale.yml"
promtool check config grafana/prometheus/prometheus-scale.yml || problem "grafana/prometheus/prometheus-scale.yml is not a valid Prometheus configuration"

# Sources are relative to the build context, the repository root; `COPY --from=stage` copies from an image.
step "Dockerfiles: every COPY source exists"
for dockerfile in src/MockServe.Server/Dockerfile loadtests/MockServe.LoadTests/Dockerfile; do
  if [ ! -f "$dockerfile" ]; then problem "$dockerfile does not exist"; continue; fi
  count=0
  while read -r -a words; do
    [ "${#words[@]}" -gt 0 ] && [ "${words[0]^^}" = "COPY" ] || continue
    sources=("${words[@]:1}")
    [[ "${sources[0]}" == --from=* ]] && continue
    while [[ "${sources[0]}" == --* ]]; do sources=("${sources[@]:1}"); done
    unset 'sources[-1]'
    for source in "${sources[@]}"; do
      count=$((count + 1))
      [ -e "$source" ] || problem "$dockerfile: COPY $source: no such file in the build context"
      # A source the build context leaves out is missing inside the build even when it exists here.
      if grep -qxE "${source%/}/?" .dockerignore 2>/dev/null; then problem "$dockerfile: COPY $source: .dockerignore leaves it out"; fi
    done
  done <"$dockerfile"
  echo "$dockerfile: $count COPY sources checked"
done

if [ "$problems" -gt 0 ]; then
  echo "stack: $problems problem(s)" >&2
  exit 1
fi
echo "stack: both compose layouts and both Dockerfiles check out"
