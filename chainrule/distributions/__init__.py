"""chainrule.distributions: probability distributions with torch.distributions' API: sample
(from chainrule's seeded generator), rsample (reparameterised, differentiable), log_prob,
entropy, moments, cdf/icdf, expand, constraints with validate_args, transforms and kl_divergence."""
from . import constraints, transforms
from .distribution import Distribution, ExponentialFamily
from .transforms import (AbsTransform, AffineTransform, ComposeTransform, ExpTransform, PowerTransform,
                         SigmoidTransform, SoftplusTransform, TanhTransform, Transform, identity_transform)
from .univariate import Normal, Uniform, Exponential, Laplace
from .discrete import (Bernoulli, Binomial, Poisson, Categorical, OneHotCategorical,
                       OneHotCategoricalStraightThrough)
from .gamma import Gamma, Dirichlet, Beta
from .multivariate_normal import MultivariateNormal
from .independent import Independent
from .transformed_distribution import TransformedDistribution, LogNormal
from .kl import kl_divergence, register_kl

__all__ = ["constraints", "transforms", "Distribution", "ExponentialFamily", "Normal", "LogNormal", "Uniform",
           "Exponential", "Laplace", "Bernoulli", "Binomial", "Poisson", "Categorical", "OneHotCategorical",
           "OneHotCategoricalStraightThrough", "Gamma", "Dirichlet", "Beta", "MultivariateNormal", "Independent",
           "TransformedDistribution", "kl_divergence", "register_kl", "AbsTransform", "AffineTransform",
           "ComposeTransform", "ExpTransform", "PowerTransform", "SigmoidTransform", "SoftplusTransform",
           "TanhTransform", "Transform", "identity_transform"]
