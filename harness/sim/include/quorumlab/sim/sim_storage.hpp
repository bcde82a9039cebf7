// The simulator's disks are the project's one in-memory disk model
// (quorumlab/replica/memory_disk.hpp).
#pragma once

#include "quorumlab/replica/memory_disk.hpp"

namespace quorumlab::sim {

using SimDisk = replica::DiskImage;
using SimStorage = replica::MemoryDisk;

}  // namespace quorumlab::sim
