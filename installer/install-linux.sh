#!/bin/sh
# Per-user install of the FairDesk tarball on Linux (no root needed):
#   tar xzf FairDesk-VERSION-linux.tar.gz && cd FairDesk && ./install-linux.sh
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DEST="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$DEST/applications" "$DEST/mime/packages"
sed "s#FAIRDESK_HOME#$HERE#g" "$HERE/fairdesk.desktop" > "$DEST/applications/fairdesk.desktop"
cat > "$DEST/mime/packages/fairdesk.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="application/x-fairdesk-project">
    <comment>FairDesk project</comment>
    <glob pattern="*.fairdesk"/>
  </mime-type>
</mime-info>
XML
command -v update-mime-database >/dev/null && update-mime-database "$DEST/mime" || true
command -v update-desktop-database >/dev/null && update-desktop-database "$DEST/applications" || true
echo "FairDesk is in your applications menu. To remove it: rm $DEST/applications/fairdesk.desktop"
