/// The config file's reader lives in its own small target (so the fuzzer can build it without
/// the plugins); the composition root re-exports it, so `import JacoRuntime` is all callers need.
@_exported import JacoConfigFile
