"""Collections's adapters: tables, repositories, clients."""
