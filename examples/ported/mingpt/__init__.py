# Ported from karpathy/minGPT, mingpt/__init__.py @ 37baab71b9abea1b76ab957409a1cc2fbfba8a26
# (https://github.com/karpathy/minGPT/blob/37baab71b9abea1b76ab957409a1cc2fbfba8a26/mingpt/__init__.py)
# License: MIT, Copyright (c) 2020 Andrej Karpathy.
# Changes: `import torch...` -> chainrule imports; nothing else.
