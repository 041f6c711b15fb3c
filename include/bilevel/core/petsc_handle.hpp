#pragma once
// RAII ownership of PETSc objects: one template, instantiated per object type, so that every
// Vec, Mat, KSP, ... an object creates is destroyed exactly once, also when an exception unwinds.
#include <petscdm.h>
#include <petscksp.h>
#include <petscmat.h>
#include <petscsnes.h>
#include <petscvec.h>

#include <utility>

namespace bilevel {

template <class T, PetscErrorCode (*Destroy)(T*)> class PetscHandle {
public:
  PetscHandle() = default;
  /// Takes ownership of an existing object.
  explicit PetscHandle(T obj) : obj_(obj) {}
  PetscHandle(const PetscHandle&) = delete;
  PetscHandle& operator=(const PetscHandle&) = delete;
  PetscHandle(PetscHandle&& other) noexcept : obj_(std::exchange(other.obj_, nullptr)) {}
  PetscHandle& operator=(PetscHandle&& other) noexcept {
    if (this != &other) {
      reset();
      obj_ = std::exchange(other.obj_, nullptr);
    }
    return *this;
  }
  ~PetscHandle() { reset(); }

  /// Destroys the held object (a destroy failure during unwinding cannot be reported).
  void reset() noexcept {
    if (obj_)
      (void)Destroy(&obj_);
    obj_ = nullptr;
  }
  T get() const { return obj_; }
  operator T() const { return obj_; }
  /// Address for PETSc's create functions (`VecDuplicate(v, out.receive())`).
  T* receive() {
    reset();
    return &obj_;
  }
  explicit operator bool() const { return obj_ != nullptr; }

private:
  T obj_ = nullptr;
};

using OwnedVec = PetscHandle<Vec, VecDestroy>;
using OwnedMat = PetscHandle<Mat, MatDestroy>;
using OwnedKSP = PetscHandle<KSP, KSPDestroy>;
using OwnedSNES = PetscHandle<SNES, SNESDestroy>;
using OwnedDM = PetscHandle<DM, DMDestroy>;
using OwnedIS = PetscHandle<IS, ISDestroy>;
using OwnedScatter = PetscHandle<VecScatter, VecScatterDestroy>;

/// A new Vec with the layout of `model` (values not set).
OwnedVec duplicate(Vec model);
/// A new Vec with the layout and values of `source`.
OwnedVec copy_of(Vec source);

} // namespace bilevel
