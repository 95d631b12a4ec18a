# ctest script: regenerate the FHIR model into the build tree and compare it with the committed
# file. Inputs: GEN (fhir_modelgen), OUT, COMMITTED, INPUTS (;-list of definition bundles).
execute_process(COMMAND ${GEN} ${OUT} ${INPUTS} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fhir_modelgen failed (${rc})")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${COMMITTED} RESULT_VARIABLE same)
if(NOT same EQUAL 0)
  message(FATAL_ERROR "${COMMITTED} is stale: run `ninja fhir_model` and commit the result")
endif()
