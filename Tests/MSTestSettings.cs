// Test classes run in parallel; tests within a class run one after another. Each test uses its own keys.
[assembly: Parallelize(Scope = ExecutionScope.ClassLevel, Workers = 4)]
