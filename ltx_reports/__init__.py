"""Reports over the alert marts that post nothing: the day's HTML report (`python -m alerting report`) and the
posting-policy backtest (`python -m alerting backtest`). They read what the alerting package reads, through its
model and warehouse; alerting/ itself is what posts and takes clicks."""
