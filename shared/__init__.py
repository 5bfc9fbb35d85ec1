"""What every isphooks function uses: auth, config, the panel client, errors, logs, HTTP."""
