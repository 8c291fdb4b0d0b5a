# Shared by the scripts that start jacod themselves (source it; it defines, it runs nothing).

# A TCP port free on 127.0.0.1 right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Builds jacod in release mode and sets $bin to the directory holding it (benchmarks measure
# release builds).
build_release_jacod() {
  swift build -c release --product jacod >/dev/null
  bin=$(swift build -c release --show-bin-path)
}
