"""The shopping bill: 2 apples at 10 and 1 watermelon at 30, with 5% tax.

total = (apple_price * apples + watermelon_price * watermelons) * tax = 52.5;
d total / d apple_price = 2.1, d total / d apples = 10.5, d total / d tax = 50.
Run:  python examples/lecture_apples.py
"""
import chainrule as cr

inputs = {"apple_price": 10.0, "apples": 2.0, "watermelon_price": 30.0, "watermelons": 1.0, "tax": 1.05}
t = {k: cr.tensor(x, dtype=cr.float64, requires_grad=True) for k, x in inputs.items()}
apple_cost = t["apple_price"] * t["apples"]
watermelon_cost = t["watermelon_price"] * t["watermelons"]
subtotal = apple_cost + watermelon_cost
total = subtotal * t["tax"]
print(f"total = {total.item():g}")

names = dict(t, apple_cost=apple_cost, watermelon_cost=watermelon_cost, subtotal=subtotal, total=total)
print(cr.viz.explain(total, names=names))
