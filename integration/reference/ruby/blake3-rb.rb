# Stand-in for the blake3-rb gem, which is not packaged by Debian: the Ruby reference server
# needs only Digest::Blake3.hexdigest, and Debian's b3sum computes exactly that. The interop
# runner puts this directory first on Ruby's load path (ruby -I), so `require 'blake3-rb'`
# loads this file. Slow (one process per hash) but the example server hashes rarely.
require 'digest'
require 'open3'

module Digest
  module Blake3
    def self.hexdigest(message)
      out, err, status = Open3.capture3('b3sum', '--no-names', stdin_data: message, binmode: true)
      raise "b3sum failed: #{err}" unless status.success?

      out.strip
    end
  end
end
