#!/usr/bin/env bash
# The .deb that `make package` builds (CPack, from BUILD_DIR): it holds what
# it should and nothing of the simulator, Depends is
# `scripts/install-deps --runtime`, /etc files are conffiles, the
# maintainer scripts create the user and enable without starting, and it
# unpacks into a scratch root with dpkg (the real system is not touched;
# tests/image/check_image.sh installs it whole in a container).
#   check_deb.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$1
build=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "check_deb: $*" >&2; exit 1; }

cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" \
  > "$scratch/cpack.log" 2>&1 || { cat "$scratch/cpack.log" >&2; fail "cpack failed"; }
deb=$(find "$scratch/out" -maxdepth 1 -name 'aliyun-sas-exporter_*.deb')
[[ -n $deb ]] || fail "cpack made no aliyun-sas-exporter_*.deb"

listing=$(dpkg-deb -c "$deb")
contents=$(awk '{print $NF}' <<<"$listing")
for path in \
    ./usr/bin/aliyun_sas_exporter \
    ./etc/aliyun_sas_exporter/aliyun_sas_exporter.toml \
    ./etc/aliyun_sas_exporter/tasks.d/ \
    ./etc/default/aliyun_sas_exporter \
    ./usr/lib/systemd/system/aliyun_sas_exporter.service \
    ./usr/share/aliyun_sas_exporter/prometheus/alerts.yml \
    ./usr/share/aliyun_sas_exporter/dashboards/aliyun-sas-exports.json \
    ./usr/share/doc/aliyun_sas_exporter/LICENSE \
    ./usr/share/doc/aliyun_sas_exporter/examples/aliyun_sas_exporter.toml; do
  grep -qxF "$path" <<<"$contents" || fail "$deb does not hold $path"
done
if grep -q simulator <<<"$contents"; then
  fail "the runtime package holds the simulator: $(grep simulator <<<"$contents")"
fi
# Secrets may go into /etc/default: root's only.
grep -q '^-rw------- root/root .* ./etc/default/aliyun_sas_exporter$' <<<"$listing" \
  || fail "/etc/default/aliyun_sas_exporter is not -rw------- root/root"

expected_depends=$("$source_dir/scripts/install-deps" --runtime --print | paste -sd, | sed 's/,/, /g')
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == "$expected_depends" ]] \
  || fail "Depends is \"$depends\", not install-deps --runtime: \"$expected_depends\""
[[ $(dpkg-deb -f "$deb" Package) == aliyun-sas-exporter ]] || fail "wrong Package"

dpkg-deb -e "$deb" "$scratch/control"
diff <(sort "$scratch/control/conffiles") \
  <(printf '%s\n' /etc/aliyun_sas_exporter/aliyun_sas_exporter.toml \
      /etc/default/aliyun_sas_exporter | sort) \
  || fail "conffiles differ from the files under /etc"
for script in postinst prerm postrm; do
  [[ -x $scratch/control/$script ]] || fail "no executable $script"
  sh -n "$scratch/control/$script" || fail "$script is not valid sh"
done
grep -q 'adduser --system' "$scratch/control/postinst" || fail "postinst creates no system user"
grep -q 'deb-systemd-helper enable' "$scratch/control/postinst" || fail "postinst does not enable the unit"
if grep -Eq 'deb-systemd-invoke (start|restart)|systemctl .*start' "$scratch/control/postinst"; then
  fail "postinst starts the service"
fi

# Unpack into a scratch root (no maintainer script runs at unpack; the
# dependencies are not in the scratch root): the binary is in place and
# dpkg holds the conffiles back as *.dpkg-new until configure, as it does
# only for conffiles.
root=$scratch/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg --root="$root" --force-depends --unpack "$deb" > "$scratch/dpkg.log" 2>&1 \
  || { cat "$scratch/dpkg.log" >&2; fail "dpkg --unpack into a scratch root failed"; }
[[ -x $root/usr/bin/aliyun_sas_exporter ]] || fail "the binary is not in the scratch root"
[[ $(dpkg --root="$root" -s aliyun-sas-exporter | grep '^Status:') == "Status: install ok unpacked" ]] \
  || fail "dpkg does not list the package as unpacked"
while read -r conffile; do
  [[ -f $root$conffile.dpkg-new ]] || fail "dpkg did not treat $conffile as a conffile"
done < "$scratch/control/conffiles"
"$root/usr/bin/aliyun_sas_exporter" --config.check \
  --config.file "$root/etc/aliyun_sas_exporter/aliyun_sas_exporter.toml.dpkg-new" > /dev/null \
  || fail "the packaged configuration does not load"
echo "check_deb: $(basename "$deb") OK"
