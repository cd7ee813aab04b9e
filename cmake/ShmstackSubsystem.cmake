# shmstack_subsystem(NAME SOURCES file... [DEPENDS subsystem...]
#                    [PUBLIC_LIBS target...] [PRIVATE_LIBS target...])
#
# One folder of src/ is one static library, shmstack_NAME, linked to the
# subsystems it DEPENDS on and nothing above them. The folder may include its
# own headers and those of its dependencies (and theirs), never others: the
# test layering.includes (test/layering/check_layers.py) reads the table this
# function records in the global property SHMSTACK_LAYERS ("name=dep,dep").
function(shmstack_subsystem name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;DEPENDS;PUBLIC_LIBS;PRIVATE_LIBS")
  add_library(shmstack_${name} STATIC ${arg_SOURCES})
  list(TRANSFORM arg_DEPENDS PREPEND shmstack_ OUTPUT_VARIABLE deps)
  target_link_libraries(shmstack_${name}
    PUBLIC ${deps} ${arg_PUBLIC_LIBS}
    PRIVATE ${arg_PRIVATE_LIBS} shmstack_warnings)
  list(JOIN arg_DEPENDS "," allowed)
  set_property(GLOBAL APPEND PROPERTY SHMSTACK_LAYERS "${name}=${allowed}")
endfunction()
