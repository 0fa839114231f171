"""What the create-droplet form offers. The resource server owns the catalogues and validates
every choice; these are the values of its published API (`POST /v2/droplets`)."""

REGIONS = {
    "nyc3": "New York 3",
    "sfo3": "San Francisco 3",
    "ams3": "Amsterdam 3",
    "fra1": "Frankfurt 1",
    "lon1": "London 1",
    "sgp1": "Singapore 1",
}
SIZES = {
    "s-1vcpu-512mb": "1 vCPU · 512 MB",
    "s-1vcpu-1gb": "1 vCPU · 1 GB",
    "s-2vcpu-2gb": "2 vCPUs · 2 GB",
    "s-2vcpu-4gb": "2 vCPUs · 4 GB",
}
IMAGES = {
    "ubuntu-24-04-x64": "Ubuntu 24.04 (LTS) x64",
    "debian-12-x64": "Debian 12 x64",
    "fedora-40-x64": "Fedora 40 x64",
}
