"""The executor: compiles query plans to SQL, runs them read-only, publishes the answers."""
