"""`cfglint saved`: will the models already saved still load with today's code?"""
