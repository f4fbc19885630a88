#!/usr/bin/env bash
# Packs Herald's packages — Herald.Core, Herald.Sdk, the herald tool (Herald.Cli) and Herald.Templates — into a folder
# feed, and makes that folder a NuGet source named "herald", so that 'dotnet tool install -g Herald.Cli',
# 'dotnet new install Herald.Templates' and the builds of apps made from the template find them.
# Usage: scripts/pack.sh [extra 'dotnet pack' arguments, e.g. --no-build]. The feed is $HERALD_FEED, else ~/.herald/feed.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

feed="${HERALD_FEED:-$HOME/.herald/feed}"
mkdir -p "$feed"
feed="$(cd "$feed" && pwd)"
for project in src/Herald.Core src/Herald.Sdk src/Herald.Cli src/Herald.Templates/Herald.Templates.csproj; do
  dotnet pack "$project" -c Release -o "$feed" -nologo -clp:ErrorsOnly "$@" >/dev/null
done

if dotnet nuget list source | grep -qE '^ *[0-9]+\. +herald \['; then
  dotnet nuget update source herald --source "$feed" >/dev/null
else
  dotnet nuget add source "$feed" --name herald >/dev/null
fi

version="$(dotnet msbuild src/Herald.Sdk -getProperty:Version)"
echo "Packed Herald $version into $feed (NuGet source 'herald')."
echo "Next: dotnet tool install -g Herald.Cli && dotnet new install Herald.Templates"
