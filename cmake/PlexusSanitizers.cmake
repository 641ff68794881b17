# -DPLEXUS_SANITIZE=ON: ASan + UBSan on everything we build (tools/test --sanitize uses it).
if(PLEXUS_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
                    # SOCI is built without the RTTI UBSan's vptr check needs.
                    -fno-sanitize=vptr)
  add_link_options(-fsanitize=address,undefined)
endif()
