#!/bin/sh
# Prepares the extracted better-auth-rb tree (cwd) to run on Debian's Ruby 3.1 with Debian's
# ruby-sinatra, puma and ruby-json; the pinned Gemfile wants Ruby 3.4 and gems from a registry
# these machines cannot reach. Changes only the temporary copy, never the archive.
set -eu
# Anonymous rest-argument forwarding (`def to_json(*) … to_json(*)`) is Ruby 3.2 syntax: name it.
find . -name '*.rb' -exec sed -i 's/(\*)/(*args)/g' {} +
# What the server needs from Debian (blake3-rb is replaced by blake3-rb.rb beside this script).
for tool in ruby b3sum; do
  command -v "$tool" >/dev/null || { echo "$tool missing: apt-get install ruby ruby-sinatra puma ruby-json b3sum" >&2; exit 1; }
done
ruby -e "require 'sinatra/base'; require 'puma'; require 'json'" || {
  echo "Ruby gems missing: apt-get install ruby-sinatra puma ruby-json" >&2
  exit 1
}
