"""chainrule.utils.data: datasets, samplers and the DataLoader (torch.utils.data's names)."""
from .dataset import Dataset, TensorDataset, Subset, random_split
from .sampler import Sampler, SequentialSampler, RandomSampler, BatchSampler
from .dataloader import DataLoader, default_collate, default_convert

__all__ = ["Dataset", "TensorDataset", "Subset", "random_split", "Sampler", "SequentialSampler",
           "RandomSampler", "BatchSampler", "DataLoader", "default_collate", "default_convert"]
