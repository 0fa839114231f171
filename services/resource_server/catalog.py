"""The fixed catalogues a droplet is built from: regions, sizes and images."""

from types import MappingProxyType

REGIONS = MappingProxyType(
    {
        "nyc1": "New York 1",
        "nyc3": "New York 3",
        "sfo3": "San Francisco 3",
        "ams3": "Amsterdam 3",
        "fra1": "Frankfurt 1",
        "lon1": "London 1",
        "sgp1": "Singapore 1",
        "blr1": "Bangalore 1",
    }
)

SIZES = MappingProxyType(
    {
        "s-1vcpu-512mb": {"vcpus": 1, "memory_mb": 512, "disk_gb": 10},
        "s-1vcpu-1gb": {"vcpus": 1, "memory_mb": 1024, "disk_gb": 25},
        "s-1vcpu-2gb": {"vcpus": 1, "memory_mb": 2048, "disk_gb": 50},
        "s-2vcpu-2gb": {"vcpus": 2, "memory_mb": 2048, "disk_gb": 60},
        "s-2vcpu-4gb": {"vcpus": 2, "memory_mb": 4096, "disk_gb": 80},
        "s-4vcpu-8gb": {"vcpus": 4, "memory_mb": 8192, "disk_gb": 160},
    }
)

IMAGES = MappingProxyType(
    {
        "ubuntu-24-04-x64": "Ubuntu 24.04 (LTS) x64",
        "ubuntu-22-04-x64": "Ubuntu 22.04 (LTS) x64",
        "debian-12-x64": "Debian 12 x64",
        "fedora-40-x64": "Fedora 40 x64",
        "rockylinux-9-x64": "Rocky Linux 9 x64",
    }
)
