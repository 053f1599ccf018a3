"""Method modules: one file per method, each registered with `benchmark.registry.register_method`."""
