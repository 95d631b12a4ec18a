#include "fhir/r4.h"

namespace midhurst::fhir::r4 {

Result<Model> load_model(const std::string& profiles_dir) {
  auto model = Model::load_file(profiles_dir + "/" + kModelFileName);
  if (model.ok() && model->fhir_version() != "4.0.1") {
    return make_error(Error::Code::kModel, "",
                      profiles_dir + "/" + kModelFileName + " describes FHIR " +
                          model->fhir_version() + ", not R4 (4.0.1)");
  }
  return model;
}

}  // namespace midhurst::fhir::r4
