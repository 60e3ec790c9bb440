// Pins the Go reference server the interop matrix runs (see ../../servers.json). The examples
// package of better-auth-go serves the interop HTTP contract on 127.0.0.1:8080.
module betterauth.local/interop/reference-go

go 1.25.1

tool github.com/jasoncolburne/better-auth-go/examples

require github.com/jasoncolburne/better-auth-go v0.0.0-20251020150458-7adc091a9196

require (
	github.com/klauspost/cpuid/v2 v2.0.12 // indirect
	github.com/zeebo/blake3 v0.2.4 // indirect
)
