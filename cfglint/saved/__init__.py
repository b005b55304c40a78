"""`cfglint saved`: will the models already saved still load with today's code?

Saved model configs (`.keras` archives, `to_json()` / `get_config()` JSON) are read without TensorFlow,
Keras or NumPy (`reader`), every serialized object in them is listed with its layer path (`walker`),
matched to a class of the project the way Keras finds it at load time (`resolve`), and compared with
today's constructor (`compare`; changed defaults in `defaults`, against the source at a git revision
read by `history`). `check` turns that into findings and `command` is the command line. With
`--dynamic`, `dynamic` loads each archive with real Keras in a `verify` worker process.
"""
